"""Checks across the whole file, after each section is valid on its own.

Each finding names where in the document it is (`loc`) so the loader can give its
line and column. Errors stop a version from going live; warnings are shown only. The
checks live by theme: menus and the calendar (`checks_menus`), queues and tiers
(`checks_queues`), numbers and phones (`checks_numbers`, `checks_phones`), durations
(`checks_values`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from config.checks_base import Finding, Severity, ref, unknown
from config.checks_menus import calendar_opens, entry_nodes, reachability, traps
from config.checks_numbers import caller_routes, endpoints, numbers
from config.checks_phones import phones
from config.checks_queues import coverage, moves, ordering, tier_promises
from config.checks_values import durations
from config.menus import Collect, Node, SelfService, SetLanguage, ToQueue
from config.model import HotlineConfig
from config.queues import Queue
from config.yaml_source import Loc

__all__ = ["CALL_VALUES", "Finding", "Severity", "cross_check", "entry_nodes", "unknown"]

# Values a `say` node may read that come from the call itself, not from a collect node.
CALL_VALUES = ("balance", "bill_amount", "bill_due", "caller_number", "new_balance")


def cross_check(config: HotlineConfig) -> list[Finding]:
    return [
        *phones(config),
        *references(config),
        *reachability(config),
        *traps(config),
        *calendar_opens(config),
        *calendar_spans(config),
        *coverage(config),
        *prompt_languages(config),
        *ordering(config),
        *moves(config),
        *tier_promises(config),
        *caller_routes(config),
        *numbers(config),
        *endpoints(config),
        *durations(config),
    ]




def references(c: HotlineConfig) -> Iterator[Finding]:
    nodes, queues, skills = c.menus.keys(), c.queues.keys(), c.skills.keys()
    yield from ref(("numbers", "start"), "menu node", c.numbers.start, nodes)
    for number, start in c.numbers.legacy.items():
        yield from ref(("numbers", "legacy", number), "menu node", start, nodes)
    for i, route in enumerate(c.caller_routes):
        yield from ref(("caller_routes", i, "start"), "menu node", route.start, nodes)
    if c.languages.default not in c.languages.offered:
        yield Finding(("languages", "default"), f"default language '{c.languages.default}' "
                      f"is not offered ({', '.join(c.languages.offered)})")
    stored = {n.store_as for n in c.menus.values() if isinstance(n, Collect)}
    for name, node in c.menus.items():
        here: Loc = ("menus", name)
        for where, target in node.targets():
            yield from ref((*here, *where), "menu node", target, nodes)
        for where, prompt in node.prompts():
            yield from ref((*here, *where), "prompt", prompt, c.prompts)
        yield from _node_references(c, here, node, queues, stored)
    for name, agent in c.agents.items():
        for skill in agent.skills:
            yield from ref(("agents", name, "skills", skill), "skill", skill, skills, True)
    for name, queue in c.queues.items():
        yield from _queue_references(c, ("queues", name), queue)
    for tier, rule in c.vip.tiers.items():
        yield from ref(("vip", "tiers", tier, "queue"), "queue", rule.queue, queues)
        for i, agent_id in enumerate(rule.agents):
            yield from ref(("vip", "tiers", tier, "agents", i), "agent", agent_id, c.agents)
    for i, queue_name in enumerate(c.sampling.queues):
        yield from ref(("sampling", "queues", i), "queue", queue_name, queues)
    yield from ref(("sampling", "survey"), "menu node", c.sampling.survey, nodes)
    yield from ref(("fallback",), "menu node", c.fallback, nodes)


def _node_references(c: HotlineConfig, here: Loc, node: Node, queues: Iterable[str],
                     stored: set[str]) -> Iterator[Finding]:
    if isinstance(node, ToQueue):
        yield from ref((*here, "queue"), "queue", node.queue, queues)
    elif isinstance(node, SetLanguage):
        yield from ref((*here, "language"), "language", node.language, c.languages.offered)
    elif isinstance(node, SelfService):
        for field in ("voucher_from", "pin_from"):
            yield from ref((*here, field), "collected value", getattr(node, field), stored)
    elif node.kind == "vip":
        for tier in getattr(node, "tiers", {}):
            yield from ref((*here, "tiers", tier), "VIP tier", tier, c.vip.tiers, True)
    elif node.kind == "say":
        value = getattr(node, "value", "")
        yield from ref((*here, "value"), "value", value, {*stored, *CALL_VALUES})


def _queue_references(c: HotlineConfig, here: Loc, queue: Queue) -> Iterator[Finding]:
    for skill in queue.skills:
        yield from ref((*here, "skills", skill), "skill", skill, c.skills, True)
    if queue.overflow:
        yield from ref((*here, "overflow", "to"), "queue", queue.overflow.to, c.queues)
    if queue.max_wait and queue.max_wait.target:
        known = c.queues if queue.max_wait.then == "queue" else c.menus
        kind = "queue" if queue.max_wait.then == "queue" else "menu node"
        yield from ref((*here, "max_wait", "target"), kind, queue.max_wait.target, known)
    yield from ref((*here, "fallback"), "menu node", queue.fallback, c.menus)


def prompt_languages(c: HotlineConfig) -> Iterator[Finding]:
    offered = c.languages.offered
    for name, prompt in c.prompts.items():
        missing = [lang for lang in offered if not prompt.text.get(lang, "").strip()]
        if missing:
            yield Finding(("prompts", name, "text"), f"prompt '{name}' has no text in "
                          f"{', '.join(missing)} (every offered language needs one)",
                          at_key=True)


def calendar_spans(c: HotlineConfig) -> Iterator[Finding]:
    for day, day_hours in c.calendar.hours.items():
        spans = sorted(enumerate(day_hours), key=lambda item: item[1].start)
        for (_, a), (index, b) in itertools.pairwise(spans):
            if b.start < a.end:
                yield Finding(("calendar", "hours", day, index), f"{b} overlaps {a}")

"""Checks across the whole file, after each section is valid on its own.

Each finding names where in the document it is (`loc`) so the loader can give its
line and column. Errors stop a version from going live; warnings are shown only.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from config.menus import Collect, Node, SelfService, SetLanguage, ToQueue
from config.model import HotlineConfig
from config.queues import TIERS, Queue
from config.yaml_source import Loc

Severity = Literal["error", "warning"]
# Values a `say` node may read that come from the call itself, not from a collect node.
CALL_VALUES = ("balance", "bill_amount", "bill_due", "caller_number", "new_balance")


@dataclass(frozen=True, slots=True)
class Finding:
    loc: Loc
    message: str
    severity: Severity = "error"
    at_key: bool = False  # point at the key rather than its value


def cross_check(config: HotlineConfig) -> list[Finding]:
    return [
        *references(config),
        *reachability(config),
        *traps(config),
        *coverage(config),
        *prompt_languages(config),
        *ordering(config),
    ]


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown {kind} '{name}'{hint}"


def _ref(loc: Loc, kind: str, name: str | None, known: Iterable[str],
         at_key: bool = False) -> Iterator[Finding]:
    """`name` must be one of `known`; `at_key` when the name is itself a mapping key."""
    names = set(known)
    if name is not None and name not in names:
        yield Finding(loc, unknown(kind, name, sorted(names)), at_key=at_key)


def references(c: HotlineConfig) -> Iterator[Finding]:
    nodes, queues, skills = c.menus.keys(), c.queues.keys(), c.skills.keys()
    yield from _ref(("numbers", "start"), "menu node", c.numbers.start, nodes)
    for number, start in c.numbers.legacy.items():
        yield from _ref(("numbers", "legacy", number), "menu node", start, nodes)
    for i, route in enumerate(c.caller_routes):
        yield from _ref(("caller_routes", i, "start"), "menu node", route.start, nodes)
    if c.languages.default not in c.languages.offered:
        yield Finding(("languages", "default"), f"default language '{c.languages.default}' "
                      f"is not offered ({', '.join(c.languages.offered)})")
    stored = {n.store_as for n in c.menus.values() if isinstance(n, Collect)}
    for name, node in c.menus.items():
        here: Loc = ("menus", name)
        for where, target in node.targets():
            yield from _ref((*here, *where), "menu node", target, nodes)
        for where, prompt in node.prompts():
            yield from _ref((*here, *where), "prompt", prompt, c.prompts)
        yield from _node_references(c, here, node, queues, stored)
    for name, agent in c.agents.items():
        for skill in agent.skills:
            yield from _ref(("agents", name, "skills", skill), "skill", skill, skills, True)
    for name, queue in c.queues.items():
        yield from _queue_references(c, ("queues", name), queue)
    for tier, rule in c.vip.tiers.items():
        yield from _ref(("vip", "tiers", tier, "queue"), "queue", rule.queue, queues)
        for i, agent_id in enumerate(rule.agents):
            yield from _ref(("vip", "tiers", tier, "agents", i), "agent", agent_id, c.agents)
    for i, queue_name in enumerate(c.sampling.queues):
        yield from _ref(("sampling", "queues", i), "queue", queue_name, queues)
    yield from _ref(("sampling", "survey"), "menu node", c.sampling.survey, nodes)
    yield from _ref(("fallback",), "menu node", c.fallback, nodes)


def _node_references(c: HotlineConfig, here: Loc, node: Node, queues: Iterable[str],
                     stored: set[str]) -> Iterator[Finding]:
    if isinstance(node, ToQueue):
        yield from _ref((*here, "queue"), "queue", node.queue, queues)
    elif isinstance(node, SetLanguage):
        yield from _ref((*here, "language"), "language", node.language, c.languages.offered)
    elif isinstance(node, SelfService):
        for field in ("voucher_from", "pin_from"):
            yield from _ref((*here, field), "collected value", getattr(node, field), stored)
    elif node.kind == "vip":
        for tier in getattr(node, "tiers", {}):
            yield from _ref((*here, "tiers", tier), "VIP tier", tier, c.vip.tiers, True)
    elif node.kind == "say":
        value = getattr(node, "value", "")
        yield from _ref((*here, "value"), "value", value, {*stored, *CALL_VALUES})


def _queue_references(c: HotlineConfig, here: Loc, queue: Queue) -> Iterator[Finding]:
    for skill in queue.skills:
        yield from _ref((*here, "skills", skill), "skill", skill, c.skills, True)
    if queue.overflow:
        yield from _ref((*here, "overflow", "to"), "queue", queue.overflow.to, c.queues)
    if queue.max_wait and queue.max_wait.target:
        known = c.queues if queue.max_wait.then == "queue" else c.menus
        kind = "queue" if queue.max_wait.then == "queue" else "menu node"
        yield from _ref((*here, "max_wait", "target"), kind, queue.max_wait.target, known)
    yield from _ref((*here, "fallback"), "menu node", queue.fallback, c.menus)


def entry_nodes(c: HotlineConfig) -> list[str]:
    """Where callers enter the menu tree from outside it."""
    entries = [c.numbers.start, *c.numbers.legacy.values(), c.sampling.survey]
    entries += [c.fallback] if c.fallback else []
    entries += [route.start for route in c.caller_routes]
    for queue in c.queues.values():
        entries += [n for n in (queue.fallback,) if n]
        if queue.max_wait and queue.max_wait.then == "menu" and queue.max_wait.target:
            entries.append(queue.max_wait.target)
    return entries


def reachability(c: HotlineConfig) -> Iterator[Finding]:
    seen: set[str] = set()
    todo = [n for n in entry_nodes(c) if n in c.menus]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += [t for _, t in c.menus[name].targets() if t in c.menus and t not in seen]
    for name in c.menus:
        if name not in seen:
            yield Finding(("menus", name), f"menu node '{name}' is never reached: no number, "
                          "key or other node leads to it", "warning", at_key=True)


def traps(c: HotlineConfig) -> Iterator[Finding]:
    """Loops a caller can never leave: no path from them reaches a queue, a hangup, or
    a fallback to a person."""
    leads_out = {n for n, node in c.menus.items() if node.reaches_a_person_or_goodbye}
    changed = True
    while changed:  # grow the set of nodes from which some path leads out
        changed = False
        for name, node in c.menus.items():
            if name not in leads_out and any(
                    t in leads_out or t not in c.menus for _, t in node.targets()):
                leads_out.add(name)
                changed = True
    trapped = [n for n in c.menus if n not in leads_out]
    for loop in _loops(c, trapped):
        first = min(loop, key=list(c.menus).index)
        path = " → ".join([*_ordered_cycle(c, loop, first), first])
        yield Finding(("menus", first), f"callers who reach '{first}' can never leave: "
                      f"{path} loops with no queue, hangup or fallback to a person",
                      at_key=True)


def _loops(c: HotlineConfig, trapped: list[str]) -> list[set[str]]:
    """Strongly connected groups of trapped nodes (Tarjan's algorithm)."""
    inside = set(trapped)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for _, target in c.menus[name].targets():
            if target not in inside:
                continue
            if target not in index:
                visit(target)
                low[name] = min(low[name], low[target])
            elif target in stack:
                low[name] = min(low[name], index[target])
        if low[name] == index[name]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == name:
                    break
            if len(group) > 1 or any(t == name for _, t in c.menus[name].targets()):
                groups.append(group)

    for name in trapped:
        if name not in index:
            visit(name)
    return groups


def _ordered_cycle(c: HotlineConfig, loop: set[str], first: str) -> list[str]:
    path, current = [first], first
    while True:
        following = [t for _, t in c.menus[current].targets() if t in loop]
        nxt = next((t for t in following if t not in path), None)
        if nxt is None:
            return path
        path.append(nxt)
        current = nxt


def coverage(c: HotlineConfig) -> Iterator[Finding]:
    for name, queue in c.queues.items():
        if not set(queue.skills) <= set(c.skills):
            continue  # an unknown skill is already an error of its own
        floor = min([s.min_proficiency for s in queue.relax], default=10)
        can_serve = [
            agent for agent in c.agents.values()
            if all(agent.skills.get(skill, 0) >= min(need, floor)
                   for skill, need in queue.skills.items())
        ]
        if not can_serve:
            needs = ", ".join(f"{s} ≥ {p}" for s, p in queue.skills.items())
            yield Finding(("queues", name), f"no agent can serve queue '{name}' (needs "
                          f"{needs}, at least {floor} after relaxing): its callers would "
                          "wait for nobody", "warning", at_key=True)


def prompt_languages(c: HotlineConfig) -> Iterator[Finding]:
    offered = c.languages.offered
    for name, prompt in c.prompts.items():
        missing = [lang for lang in offered if not prompt.text.get(lang, "").strip()]
        if missing:
            yield Finding(("prompts", name, "text"), f"prompt '{name}' has no text in "
                          f"{', '.join(missing)} (every offered language needs one)",
                          at_key=True)


def ordering(c: HotlineConfig) -> Iterator[Finding]:
    for name, queue in c.queues.items():
        here: Loc = ("queues", name)
        need = min(queue.skills.values())
        previous_after, previous_level = -1.0, need
        for i, step in enumerate(queue.relax):
            if step.after <= previous_after:
                yield Finding((*here, "relax", i, "after"), "relax steps must come in order "
                              f"of waiting time: {step.after:g}s is not after "
                              f"{previous_after:g}s")
            if step.min_proficiency >= previous_level:
                yield Finding((*here, "relax", i, "min_proficiency"), "a relax step must "
                              f"lower the proficiency asked: {step.min_proficiency} is not "
                              f"below {previous_level}")
            previous_after, previous_level = step.after, step.min_proficiency
        if queue.overflow and queue.max_wait and queue.overflow.after >= queue.max_wait.after:
            yield Finding((*here, "overflow", "after"), f"overflow after "
                          f"{queue.overflow.after:g}s never happens: the caller's maximum "
                          f"wait ends at {queue.max_wait.after:g}s")
    tiers = [(t, c.vip.tiers[t]) for t in TIERS if t in c.vip.tiers]
    for (higher, rule), (lower, lower_rule) in itertools.pairwise(tiers):
        if lower_rule.max_wait < rule.max_wait:
            yield Finding(("vip", "tiers", lower, "max_wait"), f"{lower} callers are "
                          f"promised a shorter wait ({lower_rule.max_wait:g}s) than {higher} "
                          f"callers ({rule.max_wait:g}s)")
        if lower_rule.priority > rule.priority:
            yield Finding(("vip", "tiers", lower, "priority"), f"{lower} has a higher "
                          f"priority than {higher}", "warning")
    for day, day_hours in c.calendar.hours.items():
        spans = sorted(enumerate(day_hours), key=lambda item: item[1].start)
        for (_, a), (index, b) in itertools.pairwise(spans):
            if b.start < a.end:
                yield Finding(("calendar", "hours", day, index), f"{b} overlaps {a}")

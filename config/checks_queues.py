"""Checks of the queues and VIP tiers: who can serve a queue, steps in order, where
callers are moved to, and promises that the queue's own rules break first."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from config.checks_base import Finding, seconds
from config.model import HotlineConfig
from config.queues import TIERS
from config.yaml_source import Loc


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
            relaxed = f", or at least {floor} after relaxing" if queue.relax else ""
            yield Finding(("queues", name), f"no agent can serve queue '{name}' (needs "
                          f"{needs}{relaxed}): its callers would wait for nobody",
                          "warning", at_key=True)


def ordering(c: HotlineConfig) -> Iterator[Finding]:
    for name, queue in c.queues.items():
        here: Loc = ("queues", name)
        need = min(queue.skills.values())
        previous_after, previous_level = -1.0, need
        for i, step in enumerate(queue.relax):
            if step.after <= previous_after:
                yield Finding((*here, "relax", i, "after"), "relax steps must come in order "
                              f"of waiting time: {seconds(step.after)} is not after "
                              f"{seconds(previous_after)}")
            if step.min_proficiency >= previous_level:
                yield Finding((*here, "relax", i, "min_proficiency"), "a relax step must "
                              f"lower the proficiency asked: {step.min_proficiency} is not "
                              f"below {previous_level}")
            previous_after, previous_level = step.after, step.min_proficiency
        if queue.overflow and queue.max_wait and queue.overflow.after >= queue.max_wait.after:
            yield Finding((*here, "overflow", "after"), f"overflow after "
                          f"{seconds(queue.overflow.after)} never happens: the caller's "
                          f"maximum wait ends at {seconds(queue.max_wait.after)}")
    tiers = [(t, c.vip.tiers[t]) for t in TIERS if t in c.vip.tiers]
    for (higher, rule), (lower, lower_rule) in itertools.pairwise(tiers):
        if lower_rule.max_wait < rule.max_wait:
            yield Finding(("vip", "tiers", lower, "max_wait"), f"{lower} callers are "
                          f"promised a shorter wait ({seconds(lower_rule.max_wait)}) than "
                          f"{higher} callers ({seconds(rule.max_wait)})")
        if lower_rule.priority > rule.priority:
            yield Finding(("vip", "tiers", lower, "priority"), f"{lower} has a higher "
                          f"priority than {higher}", "warning")


def _moves(c: HotlineConfig, name: str) -> list[tuple[Loc, str]]:
    """The queues a caller of `name` is moved to (keeping the arrival time), with where."""
    queue = c.queues[name]
    out: list[tuple[Loc, str]] = []
    if queue.overflow is not None:
        out.append((("queues", name, "overflow", "to"), queue.overflow.to))
    if queue.max_wait is not None and queue.max_wait.then == "queue" and queue.max_wait.target:
        out.append((("queues", name, "max_wait", "target"), queue.max_wait.target))
    return [(loc, to) for loc, to in out if to in c.queues]


def moves(c: HotlineConfig) -> Iterator[Finding]:
    """A caller moved into the queue they are in, or round a circle of queues: the wait
    counts from their arrival, so past every step they would bounce for ever."""
    reported: set[frozenset[str]] = set()
    for name in c.queues:
        for loc, to in _moves(c, name):
            if to == name:
                yield Finding(loc, f"queue '{name}' moves its callers into itself: that "
                              "moves nobody; name another queue")
                continue
            path = _path_back(c, to, name)
            if path is None or frozenset(path) in reported:
                continue
            reported.add(frozenset(path))
            circle = " → ".join([name, *path])
            if len(path) > 6:  # a ring of many queues: its start and end say enough
                circle = " → ".join([name, *path[:2], "…", *path[-2:]]) + \
                    f" ({len(path)} queues)"
            yield Finding(loc, f"queues move callers round in a circle: {circle}; callers "
                          "keep their arrival time, so once they have waited past every "
                          "step they would be moved back and forth for ever; end the chain "
                          "at a queue that moves nobody on")


def _path_back(c: HotlineConfig, start: str, goal: str) -> list[str] | None:
    """The queues from `start` back to `goal`, following moves, if there is such a path."""
    seen = {start}
    todo: list[list[str]] = [[start]]
    while todo:
        path = todo.pop(0)
        for _, to in _moves(c, path[-1]):
            if to == goal:
                return [*path, goal]
            if to not in seen:
                seen.add(to)
                todo.append([*path, to])
    return None


def tier_promises(c: HotlineConfig) -> Iterator[Finding]:
    """A tier served next after a wait its dedicated queue never lets a caller reach."""
    for tier, rule in c.vip.tiers.items():
        queue = c.queues.get(rule.queue) if rule.queue else None
        if queue is None or queue.max_wait is None:
            continue
        if rule.max_wait > queue.max_wait.after:
            yield Finding(("vip", "tiers", tier, "max_wait"), f"{tier} callers are promised "
                          f"to be served next after {seconds(rule.max_wait)}, but queue "
                          f"'{rule.queue}' ends their wait at {seconds(queue.max_wait.after)} "
                          "(its max_wait), so the promise is never reached; make it shorter, "
                          "or the queue's max_wait longer", "warning")

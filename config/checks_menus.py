"""Checks of the menu tree as callers walk it: nodes nobody reaches, loops nobody leaves,
and a calendar that never opens.

A caller's walk through the menu takes seconds, so within it the calendar does not
change: an `hours` node that sends a caller to its closed branch once will do so again
when the caller comes round. So loops are looked for three times: with every branch
(a caller may take any), with every `hours` node open, and with every one closed (when
the calendar can be open, and closed).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from config.checks_base import Finding
from config.menus import BusinessHours, Node, Target
from config.model import WEEKDAYS, HotlineConfig
from config.types import TimeRange

World = Literal["open", "closed"] | None  # None: any branch of an `hours` node
_DAY = 24 * 60


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


def _targets(node: Node, world: World) -> list[Target]:
    if world is not None and isinstance(node, BusinessHours):
        return [((world,), node.open if world == "open" else node.closed)]
    return node.targets()


def traps(c: HotlineConfig) -> Iterator[Finding]:
    """Loops a caller can never leave: no path from them reaches a queue, a hangup, or
    a fallback to a person."""
    reported: set[str] = set()
    for world in (None, *_worlds(c)):
        for loop in _trapped_loops(c, world):
            if loop & reported:
                continue
            reported |= loop
            yield _trap_finding(c, loop, world)


def _worlds(c: HotlineConfig) -> list[World]:
    """The states the calendar can be in."""
    if not any(isinstance(n, BusinessHours) for n in c.menus.values()):
        return []
    worlds: list[World] = []
    if not never_opens(c):
        worlds.append("open")
    if not _always_open(c):
        worlds.append("closed")
    return worlds


def never_opens(c: HotlineConfig) -> bool:
    cal = c.calendar
    return not any(cal.hours.values()) and not any(h.hours for h in cal.holidays)


def _always_open(c: HotlineConfig) -> bool:
    cal = c.calendar
    spans = [cal.hours.get(day, []) for day in WEEKDAYS]  # type: ignore[call-overload]
    spans += [h.hours for h in cal.holidays]

    def whole_day(day: list[TimeRange]) -> bool:
        minute = 0
        for span in sorted(day, key=lambda s: s.start):
            if span.start > minute:
                return False
            minute = max(minute, span.end)
        return minute >= _DAY

    return all(whole_day(day) for day in spans)


def _trap_finding(c: HotlineConfig, loop: set[str], world: World) -> Finding:
    first = min(loop, key=list(c.menus).index)
    path = " → ".join([*_ordered_cycle(c, loop, first, world), first])
    tail = f"{path} loops with no queue, hangup or fallback to a person"
    if world is None:
        return Finding(("menus", first), f"callers who reach '{first}' can never leave: "
                       f"{tail}", at_key=True)
    hours = next((n for n in c.menus if n in loop and isinstance(c.menus[n], BusinessHours)),
                 None)
    when = "out of hours" if world == "closed" else "in opening hours"
    fix = "send the closed branch to a queue, a hangup or a person" if world == "closed" \
        else "let the open branch reach a queue, a hangup or a person"
    message = (f"{when}, callers who reach '{first}' can never leave: {tail}, since "
               f"every 'hours' node sends them to its {world} branch each time round; {fix}")
    if hours is None:
        return Finding(("menus", first), message, at_key=True)
    return Finding(("menus", hours, world), message, at_key=True)


def _trapped_loops(c: HotlineConfig, world: World) -> list[set[str]]:
    leads_out = {n for n, node in c.menus.items() if node.reaches_a_person_or_goodbye}
    changed = True
    while changed:  # grow the set of nodes from which some path leads out
        changed = False
        for name, node in c.menus.items():
            if name not in leads_out and any(
                    t in leads_out or t not in c.menus for _, t in _targets(node, world)):
                leads_out.add(name)
                changed = True
    return _loops(c, [n for n in c.menus if n not in leads_out], world)


def _loops(c: HotlineConfig, trapped: list[str], world: World) -> list[set[str]]:
    """Strongly connected groups of trapped nodes (Tarjan's algorithm)."""
    inside = set(trapped)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        for _, target in _targets(c.menus[name], world):
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
            if len(group) > 1 or any(t == name for _, t in _targets(c.menus[name], world)):
                groups.append(group)

    for name in trapped:
        if name not in index:
            visit(name)
    return groups


def _ordered_cycle(c: HotlineConfig, loop: set[str], first: str, world: World) -> list[str]:
    path, current = [first], first
    while True:
        following = [t for _, t in _targets(c.menus[current], world) if t in loop]
        nxt = next((t for t in following if t not in path), None)
        if nxt is None:
            return path
        path.append(nxt)
        current = nxt


def calendar_opens(c: HotlineConfig) -> Iterator[Finding]:
    """A calendar with no opening hours at all: every `hours` node always says closed."""
    if not never_opens(c):
        return
    hours_nodes = [n for n, node in c.menus.items() if isinstance(node, BusinessHours)]
    if hours_nodes:
        yield Finding(("calendar", "hours"), "the hotline is never open: no day here, and no "
                      "holiday, has opening hours, so "
                      f"'{hours_nodes[0]}' (kind: hours) always sends callers to its closed "
                      "branch; give the days their hours, e.g. mon: [08:00-20:00]", at_key=True)
    else:
        yield Finding(("calendar", "hours"), "no day here, and no holiday, has opening hours: "
                      "the calendar says the hotline is never open; give the days their "
                      "hours, e.g. mon: [08:00-20:00]", "warning", at_key=True)

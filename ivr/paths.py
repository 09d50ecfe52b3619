"""Where a caller's keys lead in the menus, without a call: for the simulator, which
sends a share of each number's callers down each path. Pure.

A path is the keys the caller presses, one per node that reads keys (a choice takes one
key, a collect takes the digits typed there), e.g. `1 2` or `1 3 1234567890123456 123456`.
`wait` presses nothing: the node's retries run out and its fallback takes the caller (a
person by default). Where the keys end, the caller hangs up. Nodes that read none are
passed through as a call would: prompts, said values, a language, self-service (on to
its `next`: the caller hears the menu again after their balance), and business hours as
open (the simulated hours are open hours). A VIP branch follows the caller's tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from config.menus import (
    BusinessHours,
    Choice,
    Collect,
    Goto,
    HangUp,
    MenuNode,
    Play,
    Say,
    SelfService,
    SetLanguage,
    ToQueue,
    VipBranch,
    VoiceComment,
)

MOST_NODES = 100  # a path longer than this is a loop in the menus


WAIT = "wait"  # the key of a caller who presses nothing


class PathEnd(StrEnum):
    QUEUE = "queue"  # joined a queue
    SELF_SERVED = "self-served"  # hung up in the menus after being served there
    HUNG_UP = "hung up"  # hung up in the menus, not served
    GOODBYE = "goodbye"  # a hangup node, or a comment recorded
    PERSON = "a person"  # a menu's default fallback: no queue, the hotline's person
    STUCK = "stuck"  # a key the node does not take, or a loop


@dataclass(frozen=True, slots=True)
class Walked:
    end: PathEnd
    queue: str | None = None
    boost: int = 0
    nodes: tuple[str, ...] = ()


def split(path: str) -> list[str]:
    return path.split()


def walk(menus: Mapping[str, MenuNode], start: str, keys: list[str],
         tier: str = "normal") -> Walked:
    """Follow `keys` from `start`, as the caller of `tier`."""
    name, left, served = start, list(keys), False
    seen: list[str] = []
    while len(seen) < MOST_NODES:
        node = menus.get(name)
        if node is None:
            return Walked(PathEnd.STUCK, nodes=tuple(seen))
        seen.append(name)
        if isinstance(node, ToQueue):
            return Walked(PathEnd.QUEUE, node.queue, node.priority_boost, tuple(seen))
        if isinstance(node, HangUp | VoiceComment):
            return Walked(PathEnd.SELF_SERVED if served else PathEnd.GOODBYE,
                          nodes=tuple(seen))
        if isinstance(node, Choice | Collect):
            if not left:
                return Walked(PathEnd.SELF_SERVED if served else PathEnd.HUNG_UP,
                              nodes=tuple(seen))
            key = left.pop(0)
            if key == WAIT:
                if node.fallback is None:
                    return Walked(PathEnd.PERSON, nodes=tuple(seen))
                name = node.fallback
                continue
            if isinstance(node, Choice):
                if key not in node.keys:
                    return Walked(PathEnd.STUCK, nodes=tuple(seen))
                name = node.keys[key]
            else:
                name = node.next
            continue
        if isinstance(node, SelfService):
            served = True
        name = _next(node, tier)
    return Walked(PathEnd.STUCK, nodes=tuple(seen))


def _next(node: MenuNode, tier: str) -> str:
    if isinstance(node, Play | Say | SetLanguage | SelfService | VoiceComment):
        return node.next
    if isinstance(node, Goto):
        return node.target
    if isinstance(node, BusinessHours):
        return node.open
    if isinstance(node, VipBranch):
        return node.tiers.get(tier, node.otherwise)
    raise AssertionError(f"no way on from a {node.kind} node")

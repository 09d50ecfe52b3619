"""Who serves whom: pure decisions over plain data, with the clock passed in.

Relaxation is read from the queue rules given at each decision, so a caller already
waiting gets a new version's rules from the moment it is active.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from config.queues import Queue, Vip


@dataclass(frozen=True, slots=True)
class WaitingCall:
    call_id: str
    queue: str
    arrived_at: float  # when the caller first joined a queue (kept across overflow)
    tier: str = "normal"
    boost: int = 0


@dataclass(frozen=True, slots=True)
class FreeAgent:
    agent_id: str
    skills: Mapping[str, int]
    idle_since: float


def required_proficiency(queue: Queue, waited: float) -> dict[str, int]:
    """Each skill's minimum for a caller who has waited `waited` seconds: the queue's
    own minimum, lowered by every relax step already reached."""
    relaxed = [step.min_proficiency for step in queue.relax if waited >= step.after]
    floor = min(relaxed) if relaxed else None
    return {skill: min(need, floor) if floor is not None else need
            for skill, need in queue.skills.items()}


def can_serve(agent: FreeAgent, needs: Mapping[str, int]) -> bool:
    return all(agent.skills.get(skill, 0) >= level for skill, level in needs.items())


def priority(call: WaitingCall, vip: Vip, now: float) -> float:
    """Higher first: the tier's weight plus aging, so a long wait catches up."""
    rule = vip.tiers.get(call.tier)  # type: ignore[call-overload]
    weight = rule.priority if rule is not None else 0
    return weight + call.boost + vip.aging * max(0.0, now - call.arrived_at)


def line_order(calls: Iterable[WaitingCall], vip: Vip, now: float) -> list[WaitingCall]:
    """Who is served next, first. A caller past the tier's guaranteed wait goes ahead
    of everyone who is not."""
    def key(call: WaitingCall) -> tuple[bool, float, float]:
        rule = vip.tiers.get(call.tier)  # type: ignore[call-overload]
        overdue = rule is not None and now - call.arrived_at >= rule.max_wait
        return (not overdue, -priority(call, vip, now), call.arrived_at)

    return sorted(calls, key=key)


def pick_agent(queue: Queue, waited: float, agents: Iterable[FreeAgent],
               last_served: Mapping[str, float] | None = None) -> FreeAgent | None:
    needs = required_proficiency(queue, waited)
    fitting = [a for a in agents if can_serve(a, needs)]
    if not fitting:
        return None
    if queue.strategy == "best_proficiency":
        return max(fitting, key=lambda a: (sum(a.skills.get(s, 0) for s in needs),
                                           -a.idle_since))
    if queue.strategy == "round_robin":
        served = last_served or {}
        return min(fitting, key=lambda a: (served.get(a.agent_id, 0.0), a.agent_id))
    return min(fitting, key=lambda a: a.idle_since)  # longest idle

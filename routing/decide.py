"""Who serves whom: pure decisions over plain data, with the clock passed in.

Relaxation is read from the queue rules given at each decision, so a caller already
waiting gets a new version's rules from the moment it is active.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from config.queues import Agent, Queue, Vip


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
    # A plain loop, not all() over a generator: this runs for every candidate of every
    # pick, and the generator cost two to three times as much.
    skills = agent.skills
    for skill, level in needs.items():  # noqa: SIM110
        if skills.get(skill, 0) < level:
            return False
    return True


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


class FreeAgents:
    """The ready agents of one config version, indexed by skill, so that a queue looks
    only at agents who hold its skills rather than at every agent.

    Plain data, no I/O: the routing store fills it from Redis's ready set and keeps it in
    step between rounds; decisions read it. Agents the version does not know are left
    out, as before: an agent removed from the file is never offered a call.
    """

    def __init__(self, agents: Mapping[str, Agent]) -> None:
        self.agents = agents  # the version this index was built for
        self._all: dict[str, FreeAgent] = {}
        self._by_skill: dict[str, dict[str, FreeAgent]] = {}
        # could_serve's answers, forgotten when an agent holding one of the queue's
        # skills comes or goes: a round changes a few agents, rarely every queue's answer.
        self._answers: dict[int, tuple[Queue, bool]] = {}
        self._asked_by_skill: dict[str, set[int]] = {}

    def __len__(self) -> int:
        return len(self._all)

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._all

    def get(self, agent_id: str) -> FreeAgent | None:
        return self._all.get(agent_id)

    def add(self, agent_id: str, idle_since: float) -> None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return
        self.remove(agent_id)
        free = FreeAgent(agent_id, agent.skills, idle_since)
        self._all[agent_id] = free
        for skill in agent.skills:
            self._by_skill.setdefault(skill, {})[agent_id] = free
        self._forget(agent.skills)

    def remove(self, agent_id: str) -> None:
        free = self._all.pop(agent_id, None)
        if free is not None:
            for skill in free.skills:
                del self._by_skill[skill][agent_id]
            self._forget(free.skills)

    def _forget(self, skills: Iterable[str]) -> None:
        for skill in skills:
            for key in self._asked_by_skill.pop(skill, ()):
                self._answers.pop(key, None)

    def candidates(self, queue: Queue) -> Collection[FreeAgent]:
        """A superset of who may serve `queue`: the holders of its rarest skill (every
        queue skill asks proficiency 1 or more, so a non-holder never fits)."""
        buckets = [self._by_skill.get(skill, {}) for skill in queue.skills]
        return min(buckets, key=len).values()

    def could_serve(self, queue: Queue) -> bool:
        """Whether any free agent fits the queue once every relax step is reached: if
        not, none of its callers can be served now, and its line need not be read."""
        known = self._answers.get(id(queue))
        if known is not None and known[0] is queue:
            return known[1]
        loosest = required_proficiency(queue, math.inf)
        answer = any(can_serve(agent, loosest) for agent in self.candidates(queue))
        self._answers[id(queue)] = (queue, answer)
        for skill in queue.skills:
            self._asked_by_skill.setdefault(skill, set()).add(id(queue))
        return answer

    def pick(self, queue: Queue, waited: float) -> FreeAgent | None:
        return pick_agent(queue, waited, self.candidates(queue))

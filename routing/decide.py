"""Who serves whom: pure decisions over plain data, with the clock passed in.

Relaxation is read from the queue rules given at each decision, so a caller already
waiting gets a new version's rules from the moment it is active.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from sortedcontainers import SortedList

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
    """The agent who serves the caller next, among `agents`: the strategy's choice,
    ties broken by the longer idle, then by agent id, so every instance picks alike."""
    needs = required_proficiency(queue, waited)
    fitting = [a for a in agents if can_serve(a, needs)]
    if not fitting:
        return None
    if queue.strategy == "best_proficiency":
        return min(fitting, key=lambda a: (-sum(a.skills.get(s, 0) for s in needs),
                                           a.idle_since, a.agent_id))
    if queue.strategy == "round_robin":
        served = last_served or {}
        return min(fitting, key=lambda a: (served.get(a.agent_id, 0.0), a.agent_id))
    return min(fitting, key=lambda a: (a.idle_since, a.agent_id))  # longest idle


def decide_pairs(calls: Iterable[WaitingCall], free: FreeAgents,
                 queues: Mapping[str, Queue], now: float) -> list[tuple[FreeAgent, WaitingCall]]:
    """Who serves whom this round: `calls` in the order they are served, each given the
    best free agent for its queue. The agents chosen leave `free`."""
    pairs: list[tuple[FreeAgent, WaitingCall]] = []
    for call in calls:
        if not free:
            break
        rules = queues.get(call.queue)
        chosen = free.pick(rules, now - call.arrived_at) if rules is not None else None
        if chosen is not None:
            free.remove(chosen.agent_id)
            pairs.append((chosen, call))
    return pairs


# The best proficiency a skill can be held at (config.types.Proficiency): how far a
# scan for the best sum over several skills must go.
TOP_PROFICIENCY = 10

Order = tuple[str, str]  # (skill, strategy)


def order_key(strategy: str, skill: str, agent: FreeAgent) -> tuple[float | str, ...]:
    """Where `agent` stands among the holders of `skill` for a queue of `strategy`:
    first is whom `pick_agent` takes over that skill alone (round robin: by id, as it
    has no service history here)."""
    if strategy == "best_proficiency":
        return (-agent.skills[skill], agent.idle_since, agent.agent_id)
    if strategy == "round_robin":
        return (agent.agent_id,)
    return (agent.idle_since, agent.agent_id)


class FreeAgents:
    """The ready agents of one config version, indexed by skill, so that a queue looks
    only at agents who hold its skills rather than at every agent; and, per skill and
    strategy, kept in the order a queue picks them, so a pick reads the first few
    fitting agents, not every holder: its cost follows the candidates who fit, not the
    size of the floor.

    Plain data, no I/O: the routing store fills it from Redis's ready set and keeps it in
    step between rounds; decisions read it. Agents the version does not know are left
    out, as before: an agent removed from the file is never offered a call.
    """

    def __init__(self, agents: Mapping[str, Agent]) -> None:
        self.agents = agents  # the version this index was built for
        self._all: dict[str, FreeAgent] = {}
        self._by_skill: dict[str, dict[str, FreeAgent]] = {}
        # Built at a strategy's first pick over the skill, then kept in step.
        self._orders: dict[Order, SortedList[tuple[float | str, ...]]] = {}
        self._orders_of_skill: dict[str, list[str]] = {}  # skill -> strategies ordered
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
            for strategy in self._orders_of_skill.get(skill, ()):
                self._orders[skill, strategy].add(order_key(strategy, skill, free))
        self._forget(agent.skills)

    def remove(self, agent_id: str) -> None:
        free = self._all.pop(agent_id, None)
        if free is not None:
            for skill in free.skills:
                del self._by_skill[skill][agent_id]
                for strategy in self._orders_of_skill.get(skill, ()):
                    self._orders[skill, strategy].remove(order_key(strategy, skill, free))
            self._forget(free.skills)

    def _forget(self, skills: Iterable[str]) -> None:
        for skill in skills:
            for key in self._asked_by_skill.pop(skill, ()):
                self._answers.pop(key, None)

    def candidates(self, queue: Queue) -> Collection[FreeAgent]:
        """A superset of who may serve `queue`: the holders of its rarest skill (every
        queue skill asks proficiency 1 or more, so a non-holder never fits)."""
        return self._by_skill.get(self._rarest(queue), {}).values()

    def _rarest(self, queue: Queue) -> str:
        return min(queue.skills, key=lambda skill: len(self._by_skill.get(skill, ())))

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
        """What `pick_agent` would pick over every free agent."""
        skill = self._rarest(queue)
        if skill not in self._by_skill:
            return None
        needs = required_proficiency(queue, waited)
        ordered = self._order(skill, queue.strategy)
        if queue.strategy == "best_proficiency" and len(needs) > 1:
            return self._best_sum(ordered, skill, needs)
        for key in ordered:
            agent = self._all[str(key[-1])]
            if can_serve(agent, needs):
                return agent
            if queue.strategy == "best_proficiency":
                return None  # the rest hold the skill no better
        return None

    def _best_sum(self, ordered: Iterable[tuple[float | str, ...]], skill: str,
                  needs: Mapping[str, int]) -> FreeAgent | None:
        """Best proficiency over several skills: holders of `skill` come best first, so
        the scan stops once even top marks in the others could not beat the best."""
        others = TOP_PROFICIENCY * (len(needs) - 1)
        best: FreeAgent | None = None
        best_key: tuple[int, float, str] = (1, 0.0, "")
        for key in ordered:
            if -float(key[0]) + others < -best_key[0]:
                break
            agent = self._all[str(key[-1])]
            if can_serve(agent, needs):
                mine = (-sum(agent.skills.get(s, 0) for s in needs), agent.idle_since,
                        agent.agent_id)
                if best is None or mine < best_key:
                    best, best_key = agent, mine
        return best

    def _order(self, skill: str, strategy: str) -> SortedList[tuple[float | str, ...]]:
        ordered = self._orders.get((skill, strategy))
        if ordered is None:
            ordered = self._orders[skill, strategy] = SortedList(
                order_key(strategy, skill, agent)
                for agent in self._by_skill.get(skill, {}).values())
            self._orders_of_skill.setdefault(skill, []).append(strategy)
        return ordered

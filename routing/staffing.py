"""How many agents a queue needs in each interval to meet its target (say 85% within
20 s): Erlang C first, then confirmed and corrected by simulating the engine's own
policy (VIP priority, relax steps, patience, wrap-up, rings), since Erlang C knows one
skill, first come first served, and nobody who hangs up. Pure.

The simulated floor is the queue alone, served by copies of one of the YAML's agents
who can serve it (its skills and wrap-up): the answer is a head count per interval.
Intervals are not independent (a short interval leaves a backlog to the next), so a
correction is always checked by simulating the whole day again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from config.model import HotlineConfig
from config.queues import Agent
from config.traffic import Traffic
from routing.callers import OnDuty, generated, rates
from routing.erlang import agents_needed
from routing.simulation import Result, combined, simulate
from routing.stats import QueueFigures

ROUNDS = 12  # corrections tried before the answer is given as it stands
SLACK = 0.03  # an interval this far above target is tried with one agent fewer


@dataclass(frozen=True, slots=True)
class IntervalStaff:
    index: int
    offered: float  # callers expected in the interval
    erlang_c: int  # agents Erlang C asks for
    agents: int  # agents the simulation confirmed
    figures: QueueFigures  # what the simulation saw with `agents` on duty


@dataclass(frozen=True, slots=True)
class Staffing:
    queue: str
    template: str  # the agent copied
    intervals: list[IntervalStaff]
    met: bool  # every interval with callers reached the target
    simulations: int


def template_agent(config: HotlineConfig, queue: str) -> str | None:
    """The first YAML agent who can serve `queue` without any relax step."""
    needs = config.queues[queue].skills
    for agent_id, agent in config.agents.items():
        if all(agent.skills.get(skill, 0) >= level for skill, level in needs.items()):
            return agent_id
    return None


def schedule(counts: list[int], interval: float, day: float) -> list[OnDuty]:
    """Copy k is on duty through every run of intervals that has more than k agents
    (one on at the day's end stays until the floor is empty)."""
    spans = []
    for k in range(max(counts, default=0)):
        start = None
        for i, count in enumerate([*counts, 0]):
            if count > k and start is None:
                start = i * interval
            elif count <= k and start is not None:
                end = math.inf if i == len(counts) else min(i * interval, day)
                spans.append(OnDuty(f"copy-{k + 1}", start, end))
                start = None
    return spans


def staff(config: HotlineConfig, traffic: Traffic, queue: str, target: float, within: float,
          *, seed: int = 1, days: int = 5,
          progress: Callable[[int], None] | None = None) -> Staffing:
    """Agents per interval for `queue` to answer `target` of its callers within
    `within` seconds (`days` simulated days pooled per interval)."""
    template = template_agent(config, queue)
    if template is None:
        raise ValueError(f"no agent in the YAML can serve {queue}")
    flow = traffic.queues[queue]
    per_second = rates(flow, traffic)
    aht = flow.handle_time.average
    first = [agents_needed(rate * aht, aht, target, within) if rate > 0 else 0
             for rate in per_second]
    model = _alone(config, queue, template, max(first) + ROUNDS + 1, within)
    alone = traffic.model_copy(update={"queues": {queue: flow}})
    callers = [generated(alone, seed, day) for day in range(days)]
    runs = 0

    def run(counts: list[int]) -> Result:
        nonlocal runs
        runs += 1
        if progress is not None:
            progress(runs)
        duty = schedule(counts, traffic.interval, traffic.hours * 3600)
        return combined([simulate(model, day, duty, day=traffic.hours * 3600,
                                  interval=traffic.interval,
                                  back_after_rona=traffic.back_after_rona)
                         for day in callers])

    def short(result: Result, counts: list[int]) -> list[int]:
        return [i for i in range(len(counts)) if not _meets(result, queue, i, target)]

    counts = list(first)
    result = run(counts)
    for _ in range(ROUNDS):
        failing = short(result, counts)
        if not failing:
            break
        for i in failing:
            counts[i] += 1
        result = run(counts)
    met = not short(result, counts)
    if met:  # one agent fewer where the day has room, kept only where it still holds
        lower = [i for i, n in enumerate(counts) if n > 1 and
                 (_level(result, queue, i) or 0.0) >= target + SLACK]
        if lower:
            trial = [n - 1 if i in lower else n for i, n in enumerate(counts)]
            tried = run(trial)
            for i in short(tried, trial):
                trial[i] += 1
            checked = run(trial)
            if not short(checked, trial):
                counts, result = trial, checked
    return Staffing(queue, template, [
        IntervalStaff(i, rate * min(traffic.interval, traffic.hours * 3600 - i * traffic.interval),
                      first[i], counts[i],
                      result.by_interval.get((queue, i), QueueFigures()))
        for i, rate in enumerate(per_second)], met, runs)


def _alone(config: HotlineConfig, queue: str, template: str, copies: int,
           within: float) -> HotlineConfig:
    """The YAML with the queue's target threshold `within`, and `copies` copies of
    `template` as its only agents."""
    agent: Agent = config.agents[template]
    rules = config.queues[queue]
    service = rules.service_level.model_copy(update={"answered_within": within})
    return config.model_copy(update={
        "agents": {f"copy-{k + 1}": agent for k in range(copies)},
        "queues": {**config.queues,
                   queue: rules.model_copy(update={"service_level": service})}})


def _level(result: Result, queue: str, index: int) -> float | None:
    return result.by_interval.get((queue, index), QueueFigures()).service_level


def _meets(result: Result, queue: str, index: int, target: float) -> bool:
    level = _level(result, queue, index)
    return level is None or level >= target

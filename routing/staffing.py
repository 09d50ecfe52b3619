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
import statistics
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
# An agent is added only where the interval is short by more than the noise of the
# simulated days (a one-sided 95% margin on the standard error of its SL over the
# days): an interval's SL swings by points from one day's callers to the next, and
# chasing that swing would move agents about at random. One is taken away only where
# the target still holds beyond that noise.
NOISE_Z = 1.64


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
          *, seed: int = 1, days: int = 20,
          progress: Callable[[int], None] | None = None) -> Staffing:
    """Agents per interval for `queue` to answer `target` of its callers within
    `within` seconds (`days` simulated days pooled per interval), by the SL its YAML
    counts (with the callers who hung up, when it says `abandons_count`)."""
    template = template_agent(config, queue)
    if template is None:
        raise ValueError(f"no agent in the YAML can serve {queue}")
    flow = traffic.queues[queue]
    if not flow.calls:
        raise ValueError(f"the traffic gives {queue} no callers of its own (per_hour or "
                         "per_day): staffing reads a queue's own arrivals")
    per_second = rates(flow, traffic)
    abandons = config.queues[queue].service_level.abandons_count
    aht = flow.handle_time.average
    first = [agents_needed(rate * aht, aht, target, within) if rate > 0 else 0
             for rate in per_second]
    model = _alone(config, queue, template, max(first) + ROUNDS + 1, within)
    alone = traffic.model_copy(update={"queues": {queue: flow}, "numbers": {}})
    callers = [generated(alone, seed, day).callers for day in range(days)]
    runs = 0

    def run(counts: list[int]) -> list[Result]:
        nonlocal runs
        runs += 1
        if progress is not None:
            progress(runs)
        duty = schedule(counts, traffic.interval, traffic.hours * 3600)
        return [simulate(model, day, duty, day=traffic.hours * 3600, interval=traffic.interval,
                         back_after_rona=traffic.back_after_rona) for day in callers]

    def short(results: list[Result], counts: list[int], clearly: bool = False) -> list[int]:
        return [i for i in range(len(counts))
                if not _meets(results, queue, i, target, -NOISE_Z if clearly else NOISE_Z,
                              abandons)]

    counts = list(first)
    results = run(counts)
    for _ in range(ROUNDS):
        failing = short(results, counts)
        if not failing:
            break
        for i in failing:
            counts[i] += 1
        results = run(counts)
    met = not short(results, counts)
    for _ in range(ROUNDS if met else 0):  # one fewer where the day has room, while it holds
        lower = [i for i, n in enumerate(counts) if n > 1 and
                 (_level(results, queue, i, abandons) or 0.0) >= target + SLACK]
        if not lower:
            break
        trial = [n - 1 if i in lower else n for i, n in enumerate(counts)]
        doubtful = set(short(run(trial), trial, clearly=True))
        for i in set(lower) & doubtful:  # not clearly at target with one fewer
            trial[i] += 1
        if trial == counts:
            break
        checked = run(trial)
        if short(checked, trial):
            break
        counts, results = trial, checked
    pooled = combined(results)
    day = traffic.hours * 3600
    return Staffing(queue, template, [
        IntervalStaff(i, rate * min(traffic.interval, day - i * traffic.interval), first[i],
                      counts[i], pooled.by_interval.get((queue, i), QueueFigures()))
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


def level(figures: QueueFigures, abandons_count: bool) -> float | None:
    """The SL the queue's YAML counts: of those answered (app_queue's), or with the
    callers who hung up counted as missed."""
    return figures.service_level_with_abandons if abandons_count else figures.service_level


def _level(results: list[Result], queue: str, index: int, abandons: bool) -> float | None:
    return level(combined(results).by_interval.get((queue, index), QueueFigures()), abandons)


def _meets(results: list[Result], queue: str, index: int, target: float, z: float,
           abandons: bool) -> bool:
    """The interval's SL over all the days reaches the target less `z` standard errors
    of the days' SLs (a negative `z`: beyond the target by that much)."""
    pooled = _level(results, queue, index, abandons)
    if pooled is None:
        return True
    days = [share for r in results if (share := level(
        r.by_interval.get((queue, index), QueueFigures()), abandons)) is not None]
    error = statistics.stdev(days) / math.sqrt(len(days)) if len(days) > 1 else 0.0
    return pooled >= target - z * error

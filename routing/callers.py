"""The simulated day's people: callers drawn from a traffic file, and the agents' time
on duty. Plain data; `routing.simulation` runs them through the policy, and
`routing.replay` builds the same from a day the engine served.

Each caller's tier, handle time, patience and rings are drawn when they arrive, from
streams of their own per queue and day: two configs run on the same seed meet the
very same callers.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from config.model import HotlineConfig
from config.traffic import Arrivals, Spread, Traffic
from ivr.numbers import start_node
from ivr.paths import PathEnd, split, walk


@dataclass(slots=True)
class Caller:
    call_id: str
    queue: str  # where they join first
    arrives: float  # seconds from the start of the day
    tier: str
    handle: float  # talk time with the agent
    patience: float = math.inf  # how long they wait before hanging up
    ring: float = 0.0  # how long the answering agent's phone rings first
    let_ring: int = 0  # how many agents let the call ring out before one answers
    boost: int = 0  # the priority boost of the menu node that sent them


@dataclass(frozen=True, slots=True)
class OnDuty:
    """An agent logged in from `start` to `end` (seconds from the start of the day;
    infinite: until the floor is empty)."""

    agent_id: str
    start: float
    end: float


def draw(spread: Spread, rng: random.Random) -> float:
    if spread.distribution == "empirical":
        return rng.choice(spread.samples)
    assert spread.mean is not None
    if spread.distribution == "fixed":
        return spread.mean
    if spread.distribution == "lognormal":
        assert spread.deviation is not None
        sigma2 = math.log(1 + (spread.deviation / spread.mean) ** 2)
        return rng.lognormvariate(math.log(spread.mean) - sigma2 / 2, math.sqrt(sigma2))
    return rng.expovariate(1 / spread.mean)


def rates(flow: Arrivals, traffic: Traffic) -> list[float]:
    """Arrivals per second in each interval of the day: `per_hour` times the curve's
    factor (repeating), or `per_day` spread over the intervals in the curve's shape;
    none without either."""
    count = traffic.intervals
    if not flow.calls:
        return [0.0] * count
    factors = [flow.curve[i % len(flow.curve)] if flow.curve else 1.0 for i in range(count)]
    if flow.per_hour is not None:
        return [flow.per_hour * factor / 3600 for factor in factors]
    assert flow.per_day is not None
    lengths = [min(traffic.interval, traffic.hours * 3600 - i * traffic.interval)
               for i in range(count)]
    weight = sum(f * length for f, length in zip(factors, lengths, strict=True))
    return [flow.per_day * factor / weight for factor in factors]


def arrivals(per_second: list[float], hours: float, interval: float,
             rng: random.Random) -> Iterator[float]:
    """Poisson arrival times over the day, at each interval's rate."""
    end, t = hours * 3600, 0.0
    while t < end:
        index = int(t // interval)
        rate = per_second[min(index, len(per_second) - 1)]
        boundary = min(end, (index + 1) * interval)
        if rate <= 0:
            t = boundary
            continue
        gap = rng.expovariate(rate)
        if t + gap >= boundary:  # memoryless: start again at the interval's start
            t = boundary
            continue
        t += gap
        yield t


def rings_let_run_out(share: float, rng: random.Random) -> int:
    """How many agents in a row let the call ring out, each with chance `share`."""
    count = 0
    while share and rng.random() < share:
        count += 1
    return count


@dataclass
class Generated:
    callers: list[Caller]
    # Callers of a number who never joined a queue: "10000: self-served" -> how many.
    in_menus: Counter[str]


def generated(traffic: Traffic, seed: int, day: int = 0,
              config: HotlineConfig | None = None) -> Generated:
    """The day's callers of every queue, straight or down a number's menus (`config`
    holds the menus: needed when the traffic has `numbers`), in no particular order."""
    tiers, shares = list(traffic.tiers), list(traffic.tiers.values())
    out = Generated([], Counter())

    def caller(call_id: str, queue: str, at: float, tier: str, draws: random.Random,
               boost: int = 0) -> Caller:
        flow = traffic.queues[queue]
        return Caller(call_id, queue, at, tier, draw(flow.handle_time, draws),
                      draw(flow.patience, draws) if flow.patience else math.inf,
                      draw(flow.ring_time, draws) if flow.ring_time else 0.0,
                      rings_let_run_out(flow.rona, draws), boost)

    for number, (queue, flow) in enumerate(traffic.queues.items()):
        # One stream per queue and purpose: the same callers whatever the config does.
        times, draws = (random.Random(f"{seed}:{day}:{number}:{kind}")
                        for kind in ("arrivals", "callers"))
        for n, at in enumerate(arrivals(rates(flow, traffic), traffic.hours,
                                        traffic.interval, times)):
            out.callers.append(caller(f"{queue}-{day}-{n}", queue, at,
                                      draws.choices(tiers, shares)[0], draws))
    for dialled, calls in traffic.numbers.items():
        assert config is not None, "a traffic file with numbers needs the YAML's menus"
        start = start_node(config, dialled, "")
        assert start is not None, f"{dialled} is not a number of the YAML"
        paths, path_shares = list(calls.paths), list(calls.paths.values())
        times, draws = (random.Random(f"{seed}:{day}:n{dialled}:{kind}")
                        for kind in ("arrivals", "callers"))
        for n, at in enumerate(arrivals(rates(calls, traffic), traffic.hours,
                                        traffic.interval, times)):
            tier = draws.choices(tiers, shares)[0]
            walked = walk(config.menus, start, split(draws.choices(paths, path_shares)[0]),
                          tier)
            in_menus = draw(calls.menu_time, draws) if calls.menu_time else 0.0
            if walked.end is PathEnd.QUEUE and walked.queue in traffic.queues:
                out.callers.append(caller(f"{dialled}-{day}-{n}", walked.queue, at + in_menus,
                                          tier, draws, walked.boost))
            else:
                out.in_menus[f"{dialled}: {walked.end}"] += 1
    return out


def unfit_paths(traffic: Traffic, config: HotlineConfig) -> list[str]:
    """Why a number's paths cannot be simulated on this YAML: the number is not the
    YAML's, a path is stuck, or it reaches a queue the traffic gives no handle time."""
    problems = []
    for dialled, calls in traffic.numbers.items():
        start = start_node(config, dialled, "")
        if start is None:
            problems.append(f"numbers.{dialled}: not a number the YAML answers")
            continue
        for path in calls.paths:
            where = f"numbers.{dialled}.paths.{path!r}"
            for tier in traffic.tiers:  # a VIP branch may send each tier elsewhere
                walked = walk(config.menus, start, split(path), tier)
                if walked.end is PathEnd.STUCK:
                    problems.append(f"{where}: no way on after {' > '.join(walked.nodes)}")
                elif walked.end is PathEnd.QUEUE and walked.queue not in traffic.queues:
                    problems.append(f"{where}: reaches queue {walked.queue}, which the "
                                    "traffic gives no handle_time (add it under queues)")
                else:
                    continue
                break
    return problems


def on_duty(traffic: Traffic, config: HotlineConfig) -> list[OnDuty]:
    """Who is logged in when: the shifts, and `logged_in` all day and until the last
    caller is served; with neither, every agent of the YAML so. Agents the YAML lacks
    are left out."""
    day = traffic.hours * 3600
    spans = [OnDuty(agent, shift.start, min(shift.end, day))
             for shift in traffic.shifts for agent in shift.agents if shift.start < day]
    everyone = traffic.logged_in
    if everyone is None and not traffic.shifts:
        everyone = list(config.agents)
    spans += [OnDuty(agent, 0.0, math.inf) for agent in everyone or ()]
    return [span for span in spans if span.agent_id in config.agents]

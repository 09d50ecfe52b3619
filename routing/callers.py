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
from collections.abc import Iterator
from dataclasses import dataclass

from config.model import HotlineConfig
from config.traffic import QueueTraffic, Spread, Traffic


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


def rates(flow: QueueTraffic, traffic: Traffic) -> list[float]:
    """Arrivals per second in each interval of the day: `per_hour` times the curve's
    factor (repeating), or `per_day` spread over the intervals in the curve's shape."""
    count = traffic.intervals
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


def generated(traffic: Traffic, seed: int, day: int = 0) -> list[Caller]:
    """The day's callers of every queue, in no particular order."""
    tiers, shares = list(traffic.tiers), list(traffic.tiers.values())
    callers = []
    for number, (queue, flow) in enumerate(traffic.queues.items()):
        # One stream per queue and purpose: the same callers whatever the config does.
        times, draws = (random.Random(f"{seed}:{day}:{number}:{kind}")
                        for kind in ("arrivals", "callers"))
        for n, at in enumerate(arrivals(rates(flow, traffic), traffic.hours,
                                        traffic.interval, times)):
            callers.append(Caller(
                f"{queue}-{day}-{n}", queue, at, draws.choices(tiers, shares)[0],
                draw(flow.handle_time, draws),
                draw(flow.patience, draws) if flow.patience else math.inf,
                draw(flow.ring_time, draws) if flow.ring_time else 0.0,
                rings_let_run_out(flow.rona, draws)))
    return callers


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

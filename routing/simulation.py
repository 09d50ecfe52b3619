"""The queues in virtual time: the engine's own routing policy, run on simulated callers.

No copy of the policy lives here. A matching round is the engine's (`line_order`, then
`decide_pairs` over `FreeAgents`); a caller who has waited long enough leaves or moves
on by `reason_to_leave` and `next_queue`, is warned about by `starving`, and is counted
with the same counters (`routing.stats`). What the simulator adds is the clock and the
callers: Poisson arrivals, handle times and patience drawn from the traffic file.

Each caller's tier, handle time and patience are drawn when they arrive, from streams
of their own per queue: two configs run on the same seed meet the very same callers.
A round runs at every moment something may change who is served: an arrival, an agent
free again, a relax step, an overflow or a maximum wait reached. (The engine also
rounds once a second; nothing changes between these moments.)
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from config.model import HotlineConfig
from config.traffic import QueueTraffic, Spread, Traffic
from routing.decide import FreeAgent, FreeAgents, WaitingCall, decide_pairs, line_order
from routing.policy import Leave, next_queue, reason_to_leave, starving
from routing.stats import ALL_TIERS, QueueFigures, abandoned_counters, answered_counters

ARRIVE, FREE, ABANDON, CHECK = range(4)


@dataclass(slots=True)
class _Caller:
    tier: str
    handle: float
    patience: float  # inf: never hangs up
    interval: int  # the interval of the arrival, for the per-interval figures
    counted: bool  # arrived after the warm-up
    warned: bool = False


@dataclass
class Result:
    """Per (queue, tier), tier "all" included; per (queue, interval) for all tiers."""

    figures: dict[tuple[str, str], QueueFigures]
    by_interval: dict[tuple[str, int], QueueFigures]
    occupancy: float  # the agents' busy share (talk and wrap-up) of their logged-in time
    calls: int
    interval: float
    starvation_warnings: dict[str, int] = field(default_factory=dict)  # per tier


def draw(spread: Spread, rng: random.Random) -> float:
    if spread.distribution == "fixed":
        return spread.mean
    if spread.distribution == "lognormal":
        assert spread.deviation is not None
        sigma2 = math.log(1 + (spread.deviation / spread.mean) ** 2)
        return rng.lognormvariate(math.log(spread.mean) - sigma2 / 2, math.sqrt(sigma2))
    return rng.expovariate(1 / spread.mean)


def arrivals(traffic: QueueTraffic, hours: float, interval: float,
             rng: random.Random) -> Iterator[float]:
    """Poisson arrival times over the day, at the rate of each interval's curve factor."""
    end, t = hours * 3600, 0.0
    while t < end:
        index = int(t // interval)
        factor = traffic.curve[index % len(traffic.curve)] if traffic.curve else 1.0
        rate = traffic.per_hour * factor / 3600
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


def round_pairs(waiting: Iterable[WaitingCall], free: FreeAgents, config: HotlineConfig,
                now: float) -> list[tuple[FreeAgent, WaitingCall]]:
    """One matching round, as the engine's matcher decides it: one line across the
    queues in the tiers' order, each caller given the best free agent for their queue.
    The agents chosen leave `free`."""
    return decide_pairs(line_order(waiting, config.vip, now), free, config.queues, now)


class _Day:
    def __init__(self, config: HotlineConfig, traffic: Traffic, seed: int,
                 count_from: float) -> None:
        self.config, self.traffic, self.count_from = config, traffic, count_from
        self.events: list[tuple[float, int, int, str]] = []
        self.order = itertools.count()
        self.waiting: dict[str, WaitingCall] = {}
        self.callers: dict[str, _Caller] = {}
        self.counts: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.per_interval: defaultdict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        self.starved: Counter[str] = Counter()
        self.busy = 0.0
        on_duty = traffic.logged_in if traffic.logged_in is not None else list(config.agents)
        self.on_duty = [a for a in on_duty if a in config.agents]
        self.free = FreeAgents(config.agents)
        for agent_id in self.on_duty:
            self.free.add(agent_id, 0.0)
        tiers, shares = list(traffic.tiers), list(traffic.tiers.values())
        self.calls = 0
        for number, (queue, flow) in enumerate(traffic.queues.items()):
            # One stream per queue and purpose: the same callers whatever the config does.
            times, draws = (random.Random(f"{seed}:{number}:{kind}")
                            for kind in ("arrivals", "callers"))
            for n, at in enumerate(arrivals(flow, traffic.hours, traffic.interval, times)):
                call_id = f"{queue}-{n}"
                tier = draws.choices(tiers, shares)[0]
                handle = draw(flow.handle_time, draws)
                patience = draw(flow.patience, draws) if flow.patience else math.inf
                self.callers[call_id] = _Caller(tier, handle, patience,
                                                int(at // traffic.interval), at >= count_from)
                self._at(at, ARRIVE, f"{queue}|{call_id}")
                self.calls += 1

    def _at(self, when: float, kind: int, what: str) -> None:
        heapq.heappush(self.events, (when, next(self.order), kind, what))

    def _count(self, queue: str, call_id: str, counters: dict[str, int]) -> None:
        caller = self.callers[call_id]
        if not caller.counted:
            return
        for key in ((queue, caller.tier), (queue, ALL_TIERS)):
            self.counts[key].update(counters)
        self.per_interval[(queue, caller.interval)].update(counters)

    def run(self) -> Result:
        while self.events:
            now, _, kind, what = heapq.heappop(self.events)
            if kind == ARRIVE:
                queue, call_id = what.split("|")
                self._join(WaitingCall(call_id, queue, now, self.callers[call_id].tier), now)
            elif kind == FREE:
                self.free.add(what, now)
            elif kind == ABANDON:
                # Nobody freed, nobody's rules changed: no pair the last round missed.
                self._abandon(what, now)
                continue
            else:
                self._check(what, now)
            if self.waiting and self.free:
                self._round(now)
        figures = {key: QueueFigures(**dict(c)) for key, c in self.counts.items()}
        hours = self.traffic.hours * 3600
        return Result(figures, {k: QueueFigures(**dict(c)) for k, c in self.per_interval.items()},
                      self.busy / (hours * len(self.on_duty)) if self.on_duty else 0.0,
                      self.calls, self.traffic.interval, dict(self.starved))

    def _join(self, call: WaitingCall, now: float) -> None:
        self.waiting[call.call_id] = call
        self._count(call.queue, call.call_id, {"offered": 1})
        caller = self.callers[call.call_id]
        if call.arrived_at == now and math.isfinite(caller.patience):
            self._at(now + caller.patience, ABANDON, call.call_id)
        rules = self.config.queues.get(call.queue)
        if rules is None:
            return
        # The moments the rules may change this caller's fate, from their first join.
        moments = [step.after for step in rules.relax]
        moments += [rules.overflow.after] if rules.overflow else []
        moments += [rules.max_wait.after] if rules.max_wait else []
        tier = self.config.vip.tiers.get(call.tier)  # type: ignore[call-overload]
        moments += [tier.max_wait * 0.8, tier.max_wait] if tier is not None else []
        for after in moments:
            if call.arrived_at + after > now:
                self._at(call.arrived_at + after, CHECK, call.call_id)

    def _round(self, now: float) -> None:
        for agent, call in round_pairs(self.waiting.values(), self.free, self.config, now):
            del self.waiting[call.call_id]
            caller = self.callers[call.call_id]
            rules = self.config.queues[call.queue]
            waited = now - call.arrived_at
            self._count(call.queue, call.call_id, {
                **answered_counters(waited, rules.service_level.answered_within),
                "handled": 1, "talk_ms": int(caller.handle * 1000)})
            wrap_up = self.config.agents[agent.agent_id].wrap_up
            self.busy += caller.handle + wrap_up
            self._at(now + caller.handle + wrap_up, FREE, agent.agent_id)

    def _abandon(self, call_id: str, now: float) -> None:
        call = self.waiting.pop(call_id, None)
        if call is None:
            return  # answered, or gone by the rules, before
        rules = self.config.queues.get(call.queue)
        short = rules.service_level.short_abandon if rules else 0.0
        self._count(call.queue, call_id, abandoned_counters(now - call.arrived_at, short))

    def _check(self, call_id: str, now: float) -> None:
        call = self.waiting.get(call_id)
        if call is None:
            return
        rules = self.config.queues.get(call.queue)
        why = reason_to_leave(rules, now - call.arrived_at)
        if why is None:
            caller = self.callers[call_id]
            tier = self.config.vip.tiers.get(call.tier)  # type: ignore[call-overload]
            if not caller.warned and starving(tier, now - call.arrived_at):
                caller.warned = True
                self.starved[call.tier] += 1
                self._count(call.queue, call_id, {"starvation_warnings": 1})
            return
        del self.waiting[call_id]
        target = next_queue(call.queue, rules, why, self.config.queues)
        if why is Leave.OVERFLOW and target is not None:
            self._count(call.queue, call_id, {"overflowed": 1})
            self._join(replace(call, queue=target), now)
        else:  # the maximum wait's offer (a callback, a message, a menu): out of line
            self._count(call.queue, call_id, {"timed_out": 1})


def simulate(config: HotlineConfig, traffic: Traffic, seed: int = 1,
             count_from: float = 0.0) -> Result:
    """One day of `traffic` under `config`. Callers arriving before `count_from`
    seconds are served but not counted (a warm-up from an empty floor)."""
    return _Day(config, traffic, seed, count_from).run()

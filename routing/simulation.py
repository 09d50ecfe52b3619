"""The queues in virtual time: the engine's own routing policy, run on simulated callers.

No copy of the policy lives here. A matching round is the engine's (`line_order`, then
`decide_pairs` over `FreeAgents`); a caller who has waited long enough leaves or moves
on by `reason_to_leave` and `next_queue`, is warned about by `starving` (in the
engine's words), and is counted with the same counters (`routing.stats`). What the
simulator adds is the clock and the people: callers and shifts from `routing.callers`
(drawn from a traffic file) or `routing.replay` (a day the engine served).

A round runs at every moment something may change who is served: an arrival, an agent
free again or logging in, a caller back from a ring that ran out, a relax step, an
overflow or a maximum wait reached. (The engine also rounds once a second; nothing
changes between these moments.) Like the engine, a caller's wait runs until the agent
answers, ringing included; an agent who lets a ring run out is away a while, and the
caller goes back to their place in line.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from config.model import HotlineConfig
from config.traffic import Traffic
from routing.callers import Caller, OnDuty, generated, on_duty
from routing.decide import FreeAgent, FreeAgents, WaitingCall, decide_pairs, line_order
from routing.policy import Leave, next_queue, reason_to_leave, starvation_warning, starving
from routing.stats import ALL_TIERS, QueueFigures, abandoned_counters, answered_counters

# Event kinds, in the order they are handled when they fall on the same moment: agents
# come and go before callers are matched.
START, END, FREE, ARRIVE, ANSWER, RANG_OUT, ABANDON, CHECK = range(8)
WARNINGS_KEPT = 20  # the first starvation warnings kept word for word
PROGRESS_EVERY = 8192  # events between two progress reports


@dataclass
class Result:
    """Per (queue, tier), tier "all" included; per (queue, interval) for all tiers."""

    figures: dict[tuple[str, str], QueueFigures]
    by_interval: dict[tuple[str, int], QueueFigures]
    occupancy: float  # the agents' busy share (ringing, talk, wrap-up) of their time on duty
    calls: int
    interval: float
    starvation_warnings: dict[str, int] = field(default_factory=dict)  # per tier
    longest_wait: dict[tuple[str, str], float] = field(default_factory=dict)
    # Per tier: callers answered, or gone, after more than the tier's guaranteed wait.
    past_guarantee: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the first few, as the engine logs
    days: int = 1
    busy: float = 0.0  # seconds, for combining days
    on_duty: float = 0.0
    # Callers of a number who never joined a queue: "10000: self-served" -> how many.
    in_menus: dict[str, int] = field(default_factory=dict)


def round_pairs(waiting: Iterable[WaitingCall], free: FreeAgents, config: HotlineConfig,
                now: float) -> list[tuple[FreeAgent, WaitingCall]]:
    """One matching round, as the engine's matcher decides it: one line across the
    queues in the tiers' order, each caller given the best free agent for their queue.
    The agents chosen leave `free`."""
    return decide_pairs(line_order(waiting, config.vip, now), free, config.queues, now)


class _Day:
    def __init__(self, config: HotlineConfig, callers: Iterable[Caller],
                 duty: Iterable[OnDuty], *, day: float, interval: float,
                 back_after_rona: float, count_from: float) -> None:
        self.config, self.interval, self.count_from = config, interval, count_from
        self.back_after_rona = back_after_rona
        self.events: list[tuple[float, int, int, str]] = []
        self.order = itertools.count()
        self.callers = {caller.call_id: caller for caller in callers}
        self.waiting: dict[str, WaitingCall] = {}
        self.ringing: dict[str, tuple[str, WaitingCall]] = {}  # call -> agent, place
        self.counts: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.per_interval: defaultdict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        self.longest: dict[tuple[str, str], float] = {}
        self.starved: Counter[str] = Counter()
        self.past_guarantee: Counter[str] = Counter()
        self.warned: set[str] = set()
        self.warnings: list[str] = []
        self.free = FreeAgents(config.agents)
        self.shifts_on: Counter[str] = Counter()  # an agent's shifts under way
        self.busy_since: dict[str, float] = {}  # ringing, talking, wrapping up or away
        self.busy = self.on_duty = 0.0
        for span in duty:  # an endless span: on duty until the floor is empty
            self.on_duty += min(span.end, day) - span.start
            self._at(span.start, START, span.agent_id)
            if math.isfinite(span.end):
                self._at(span.end, END, span.agent_id)
        for caller in self.callers.values():
            self._at(caller.arrives, ARRIVE, caller.call_id)
        self.end = day

    def _at(self, when: float, kind: int, what: str) -> None:
        heapq.heappush(self.events, (when, kind, next(self.order), what))

    def run(self, progress: Callable[[float], None] | None) -> Result:
        handled = 0
        while self.events:
            now, kind, _, what = heapq.heappop(self.events)
            if self._handle(kind, what, now) and self.waiting and self.free:
                self._round(now)
            handled += 1
            if progress is not None and handled % PROGRESS_EVERY == 0:
                progress(min(1.0, now / self.end) if self.end else 1.0)
        return Result(
            {key: QueueFigures(**dict(c)) for key, c in self.counts.items()},
            {key: QueueFigures(**dict(c)) for key, c in self.per_interval.items()},
            self.busy / self.on_duty if self.on_duty else 0.0, len(self.callers),
            self.interval, dict(self.starved), dict(self.longest), dict(self.past_guarantee),
            self.warnings, busy=self.busy, on_duty=self.on_duty)

    def _handle(self, kind: int, what: str, now: float) -> bool:
        """Handle one event; whether a round may now pair someone."""
        if kind == START:
            self.shifts_on[what] += 1
            if what not in self.busy_since:
                self.free.add(what, now)
        elif kind == END:
            self.shifts_on[what] -= 1
            if not self.shifts_on[what]:
                self.free.remove(what)
            return False
        elif kind == FREE:
            self.busy += now - self.busy_since.pop(what)
            if self.shifts_on[what]:
                self.free.add(what, now)
        elif kind == ARRIVE:
            caller = self.callers[what]
            if math.isfinite(caller.patience):
                self._at(now + caller.patience, ABANDON, what)
            self._join(WaitingCall(what, caller.queue, now, caller.tier, caller.boost), now)
        elif kind == ANSWER:
            self._answer(what, now)
            return False
        elif kind == RANG_OUT:
            self._rang_out(what, now)
        elif kind == ABANDON:
            return self._abandon(what, now)
        else:
            self._check(what, now)
        return True

    def _count(self, queue: str, call_id: str, counters: dict[str, int]) -> None:
        caller = self.callers[call_id]
        if caller.arrives < self.count_from:
            return
        for key in ((queue, caller.tier), (queue, ALL_TIERS)):
            self.counts[key].update(counters)
        self.per_interval[(queue, int(caller.arrives // self.interval))].update(counters)

    def _gone(self, call: WaitingCall, now: float) -> None:
        """The caller's wait is over (answered, or out of line): the longest waits, and
        the tier's guarantee."""
        if self.callers[call.call_id].arrives < self.count_from:
            return
        waited = now - call.arrived_at
        for key in ((call.queue, call.tier), (call.queue, ALL_TIERS)):
            self.longest[key] = max(self.longest.get(key, 0.0), waited)
        tier = self.config.vip.tiers.get(call.tier)  # type: ignore[call-overload]
        if tier is not None and waited > tier.max_wait:
            self.past_guarantee[call.tier] += 1

    def _join(self, call: WaitingCall, now: float) -> None:
        self.waiting[call.call_id] = call
        self._count(call.queue, call.call_id, {"offered": 1})
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
            self.busy_since[agent.agent_id] = now
            self.ringing[call.call_id] = (agent.agent_id, call)
            if caller.let_ring:
                self._at(now + self.config.queues[call.queue].ring_timeout, RANG_OUT,
                         call.call_id)
            else:
                self._at(now + caller.ring, ANSWER, call.call_id)

    def _answer(self, call_id: str, now: float) -> None:
        if call_id not in self.ringing:
            return  # hung up while it rang
        agent_id, call = self.ringing.pop(call_id)
        caller = self.callers[call_id]
        rules = self.config.queues[call.queue]
        self._count(call.queue, call_id, {
            **answered_counters(now - call.arrived_at, rules.service_level.answered_within),
            "handled": 1, "talk_ms": int(caller.handle * 1000)})
        self._gone(call, now)
        self._at(now + caller.handle + self.config.agents[agent_id].wrap_up, FREE, agent_id)

    def _rang_out(self, call_id: str, now: float) -> None:
        if call_id not in self.ringing:
            return
        agent_id, call = self.ringing.pop(call_id)
        self.callers[call_id].let_ring -= 1
        # Not ready a while, and not busy: nothing more counts until they are back.
        self.busy += now - self.busy_since[agent_id]
        self.busy_since[agent_id] = now + self.back_after_rona
        self._at(now + self.back_after_rona, FREE, agent_id)
        self.waiting[call_id] = call  # back at their place: the arrival is kept
        self._check(call_id, now)

    def _abandon(self, call_id: str, now: float) -> bool:
        """Whether an agent is free again by it (the caller hung up while it rang)."""
        call = self.waiting.pop(call_id, None)
        ringing = self.ringing.pop(call_id, None)
        if ringing is not None:
            call = ringing[1]
            self._at(now, FREE, ringing[0])  # the offer is cancelled: ready again
        if call is None:
            return False  # answered, or gone by the rules, before
        rules = self.config.queues.get(call.queue)
        short = rules.service_level.short_abandon if rules else 0.0
        self._count(call.queue, call_id, abandoned_counters(now - call.arrived_at, short))
        self._gone(call, now)
        return False

    def _check(self, call_id: str, now: float) -> None:
        call = self.waiting.get(call_id)
        if call is None:
            return
        rules = self.config.queues.get(call.queue)
        why = reason_to_leave(rules, now - call.arrived_at)
        if why is None:
            tier = self.config.vip.tiers.get(call.tier)  # type: ignore[call-overload]
            if call_id not in self.warned and starving(tier, now - call.arrived_at):
                self.warned.add(call_id)
                self.starved[call.tier] += 1
                self._count(call.queue, call_id, {"starvation_warnings": 1})
                if len(self.warnings) < WARNINGS_KEPT:
                    self.warnings.append(starvation_warning(
                        call_id, call.tier, now - call.arrived_at, call.queue, tier.max_wait))
            return
        del self.waiting[call_id]
        target = next_queue(call.queue, rules, why, self.config.queues)
        if why is Leave.OVERFLOW and target is not None:
            self._count(call.queue, call_id, {"overflowed": 1})
            self._join(replace(call, queue=target), now)
        else:  # the maximum wait's offer (a callback, a message, a menu): out of line
            self._count(call.queue, call_id, {"timed_out": 1})
            self._gone(call, now)


def simulate(config: HotlineConfig, callers: Iterable[Caller], duty: Iterable[OnDuty], *,
             day: float, interval: float = 900.0, back_after_rona: float = 60.0,
             count_from: float = 0.0,
             progress: Callable[[float], None] | None = None) -> Result:
    """One day (`day` seconds long) of `callers` under `config`, with the agents `duty`
    says. Callers arriving before `count_from` seconds are served but not counted (a
    warm-up from an empty floor). `progress` hears the share of the day done, now and
    then."""
    return _Day(config, callers, duty, day=day, interval=interval,
                back_after_rona=back_after_rona, count_from=count_from).run(progress)


def simulate_traffic(config: HotlineConfig, traffic: Traffic, seed: int = 1, *,
                     days: int = 1, count_from: float = 0.0,
                     progress: Callable[[float], None] | None = None) -> Result:
    """`days` days of the traffic file's callers under `config`, each from an empty
    floor, as one result. Day n meets the same callers whatever the config."""
    results = []
    for day in range(days):
        def done(share: float, day: int = day) -> None:
            if progress is not None:
                progress((day + share) / days)

        people = generated(traffic, seed, day, config)
        result = simulate(config, people.callers, on_duty(traffic, config),
                          day=traffic.hours * 3600, interval=traffic.interval,
                          back_after_rona=traffic.back_after_rona, count_from=count_from,
                          progress=done)
        result.in_menus = dict(people.in_menus)
        results.append(result)
        done(1.0)
    return results[0] if days == 1 else combined(results)


def combined(days: list[Result]) -> Result:
    """Several simulated days as one: counts added, longest waits the longest."""
    figures: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    by_interval: defaultdict[tuple[str, int], Counter[str]] = defaultdict(Counter)
    longest: dict[tuple[str, str], float] = {}
    for day in days:
        for key, f in day.figures.items():
            figures[key].update(_counters(f))
        for slot, f in day.by_interval.items():
            by_interval[slot].update(_counters(f))
        for key, wait in day.longest_wait.items():
            longest[key] = max(longest.get(key, 0.0), wait)
    busy, on_duty = sum(d.busy for d in days), sum(d.on_duty for d in days)
    return Result(
        {k: QueueFigures(**dict(c)) for k, c in figures.items()},
        {k: QueueFigures(**dict(c)) for k, c in by_interval.items()},
        busy / on_duty if on_duty else 0.0, sum(d.calls for d in days), days[0].interval,
        dict(sum((Counter(d.starvation_warnings) for d in days), Counter())), longest,
        dict(sum((Counter(d.past_guarantee) for d in days), Counter())),
        [w for d in days for w in d.warnings][:WARNINGS_KEPT], len(days), busy, on_duty,
        dict(sum((Counter(d.in_menus) for d in days), Counter())))


def _counters(f: QueueFigures) -> dict[str, int]:
    return {name: getattr(f, name) for name in QueueFigures.__slots__}

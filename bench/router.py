"""Matching callers to agents at scale: 5,000 agents, 100 skills, 2,000 waiting callers.

    python bench/router.py [--agents 5000] [--skills 100] [--waiting 2000] [--rate 500]
                           [--seconds 10] [--runs 5] [--seed 7] [--no-scaling]
                           [--no-gc-freeze]

Runs the engine's real queue service (`Queues`: the routing store's reads, the decisions
of `routing.decide`, the batched reservation script, the connector that rings the agent)
against its own redis-server, with a stand-in PBX port in place of Asterisk: it answers
every `Redirect` and `Setvar` with Success at once and notes each `Redirect`, the ring.
Agents are later "released" through the store's real moves (cancel offer: reserved ->
ready), so the floor does not drain. Each phase starts from a known floor: every agent
ready, nobody waiting, nothing rung and not released; a run that finds otherwise fails.

A decision is one caller paired with an agent: the best free agent fitting the caller's
queue found, reserved in Redis, and the agent's phone rung.

- Throughput: 2,000 callers are waiting, every agent is ready; rounds run back to back
  until all are paired. decisions/s = pairs / time. Three times; the median counts.
- One caller at a time: join, one round (timed), release; 500 times; the median round.
- Latency: every agent holding a skill of five skill families (a fifth of the skills)
  is set not ready, "busy", and the 2,000 callers wait in the queues only they serve;
  callers arrive in the other queues at 500/s on a fixed schedule, the matcher running
  as in the engine (woken by each arrival). Latency = the ring (the `Redirect` written)
  - the arrival's scheduled time (a late schedule counts against the matcher), so it
  includes joining the line.
- Ceiling: the reservation script called bare, one pair per call (`EVALSHA`, each a
  ready agent and a waiting caller, so it does its real work), back to back from one
  client; after each throughput run, the median counts. ratio = decisions/s / ceiling,
  in the same run: above 1, batching beats one bare call per decision.

The whole is run `--runs` times, each on a fresh redis-server; a run that raises counts
in `runs_failed` and the others still count. Figures are the median over the runs, with
the range. Then (unless `--no-scaling`) the one-caller round is measured the same way on
floors of 1,000 and 20,000 agents (same skills): `round_ms_1k`, `round_ms_20k`.

Human-readable lines first; the last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import random
import statistics
import sys
import time
import traceback
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis

from agents.state import Move
from config.model import HotlineConfig
from config.queues import Agent, Queue, RelaxStep, Skill, TierRule, Vip
from hotline.dev.local_redis import LocalRedis
from hotline.queues.service import Queues
from hotline.runtime.heap import settle_after_activation
from hotline.runtime.redis_client import connect
from pbx.ami import AmiConnection
from pbx.ami_actions import AmiResponse
from routing.decide import WaitingCall
from routing.store import RoutingStore

FAMILY = 4  # skills per family (billing, faults, ... in one language, say)
BUSY_FAMILIES = 5
TIERS = ["normal", "silver", "gold", "diamond"]
TIER_WEIGHTS = [85, 8, 5, 2]
CEILING_CALLS = 3000
REPEATS = 3
ONE_AT_A_TIME = 500
SCALING_FLOORS = (1000, 20000)


class BenchFailed(Exception):
    """The run broke one of the bench's own rules (a phase not starting from a known
    floor, a reservation never rung): its figures would mean nothing."""


@dataclass
class Population:
    config: HotlineConfig
    busy_agents: list[str]  # holders of a busy family's skill
    busy_queues: list[str]  # queues only busy agents can serve
    open_queues: list[str]


def population(agents: int, skills: int, rng: random.Random) -> Population:
    """Skills in families of four; each agent has three of one family's skills and,
    one time in two, one more from anywhere, at proficiencies 1-10. A queue per skill,
    and one per family over two of its skills."""
    names = [f"s{i:03d}" for i in range(skills)]
    families = [names[i:i + FAMILY] for i in range(0, skills, FAMILY)]
    busy_skills = {s for family in families[:BUSY_FAMILIES] for s in family}
    staff: dict[str, Agent] = {}
    for i in range(agents):
        held = rng.sample(families[i % len(families)], min(3, FAMILY))
        if rng.random() < 0.5:
            held.append(rng.choice(names))
        staff[f"a{i:05d}"] = Agent(name=f"Agent {i}", endpoint=f"PJSIP/agent-{i}",
                                   skills={s: rng.randint(1, 10) for s in held})
    strategies = ["best_proficiency", "longest_idle", "round_robin"]
    queues: dict[str, Queue] = {}
    for i, skill in enumerate(names):
        strategy: Any = strategies[i % 3]  # one of Queue.strategy's literals
        queues[f"q-{skill}"] = Queue(
            name=skill, skills={skill: rng.randint(3, 6)}, strategy=strategy,
            relax=[RelaxStep(after=20, min_proficiency=2), RelaxStep(after=60,
                                                                     min_proficiency=1)])
    for i, family in enumerate(families):
        if len(family) >= 2:
            queues[f"pair-{i:02d}"] = Queue(name=f"family {i}",
                                            skills={family[0]: 3, family[1]: 3},
                                            relax=[RelaxStep(after=30, min_proficiency=1)])
    vip = Vip(tiers={"diamond": TierRule(priority=300, max_wait=20),
                     "gold": TierRule(priority=200, max_wait=40),
                     "silver": TierRule(priority=100, max_wait=120),
                     "normal": TierRule(priority=0, max_wait=300)})
    config = HotlineConfig.model_construct(
        skills={s: Skill(name=s) for s in names}, agents=staff, queues=queues, vip=vip)
    return Population(
        config,
        busy_agents=[a for a, agent in staff.items() if busy_skills & agent.skills.keys()],
        busy_queues=[q for q, rules in queues.items() if busy_skills & rules.skills.keys()],
        open_queues=[q for q, rules in queues.items()
                     if not busy_skills & rules.skills.keys()])


SUCCESS = AmiResponse({"Response": "Success"})


@dataclass
class Ring:
    call_id: str
    agent_id: str
    at: float  # perf_counter


class StandInPbx:
    """In place of the AMI connection: every action answered Success at once, as
    Asterisk would for a live channel. Each `Redirect` is a ring: noted, and handed to
    `on_ring` when set."""

    def __init__(self) -> None:
        self.rings: list[Ring] = []
        self.setvars = 0
        self.on_ring: Any = None  # Callable[[Ring], None] | None

    def start_action(self, fields: dict[str, Any], **_: Any) -> Awaitable[AmiResponse]:
        self._note(fields)
        answer: asyncio.Future[AmiResponse] = asyncio.get_running_loop().create_future()
        answer.set_result(SUCCESS)
        return answer

    async def send_action(self, fields: dict[str, Any], **_: Any) -> AmiResponse:
        self._note(fields)
        return SUCCESS

    def _note(self, fields: dict[str, Any]) -> None:
        if fields["Action"] == "Setvar":
            self.setvars += 1
        elif fields["Action"] == "Redirect":
            # Exten is "<ring seconds>-<agent id>"; the channel is the bench's own name.
            ring = Ring(str(fields["Channel"]).removeprefix("PJSIP/"),
                        str(fields["Exten"]).split("-", 1)[1], time.perf_counter())
            self.rings.append(ring)
            if self.on_ring is not None:
                self.on_ring(ring)


@dataclass
class Floor:
    """One run's engine side: the queue service on its own redis-server."""

    pop: Population
    store: RoutingStore
    queues: Queues
    pbx: StandInPbx
    released: int = 0
    pending: set[asyncio.Task[None]] = field(default_factory=set)

    async def join(self, call: WaitingCall) -> None:
        """As the engine's waiting side does for its own caller: known to the matcher
        here (so the ring costs no read), then in line in Redis."""
        channel = f"PJSIP/{call.call_id}"
        self.queues.matcher.here[call.call_id] = {"channel": channel, "number": "",
                                                   "menu_path": ""}
        await self.store.join(call, channel)

    async def release(self, ring: Ring) -> None:
        self.queues.matcher.here.pop(ring.call_id, None)
        await self.store.apply(ring.agent_id, Move.CANCEL_OFFER, time.time(),
                               call_id=ring.call_id)
        self.released += 1

    async def release_rung(self) -> None:
        """Every agent rung and not yet released goes back to ready."""
        rung = self.pbx.rings[self.released:]
        await in_chunks(self.release(ring) for ring in rung)

    async def empty_lines(self) -> None:
        left = (await self.store.view.waiting_in(list(self.pop.config.queues))).values()
        await in_chunks(self.store.leave(c.call_id, c.queue) for line in left for c in line)
        self.queues.matcher.here.clear()

    async def known(self, phase: str, ready: int | None = None) -> None:
        """The floor a phase starts from: `ready` agents ready (all by default),
        nobody waiting, every ring released."""
        await asyncio.gather(*self.pending)
        expected = len(self.pop.config.agents) if ready is None else ready
        found = len(await self.store.view.ready_agents())
        waiting = sum(map(len, (await self.store.view.waiting_in(
            list(self.pop.config.queues))).values()))
        unreleased = len(self.pbx.rings) - self.released
        if (found, waiting, unreleased) != (expected, 0, 0):
            raise BenchFailed(f"{phase} starts with {found} of {expected} agents ready, "
                              f"{waiting} callers waiting, {unreleased} rings not released")


async def in_chunks(jobs: Iterable[Awaitable[Any]], size: int = 200) -> None:
    batch: list[Awaitable[Any]] = []
    for job in jobs:
        batch.append(job)
        if len(batch) == size:
            await asyncio.gather(*batch)
            batch = []
    await asyncio.gather(*batch)


def random_call(call_id: str, queue: str, now: float, rng: random.Random,
                waited: float) -> WaitingCall:
    return WaitingCall(call_id, queue, now - rng.uniform(0, waited),
                       rng.choices(TIERS, TIER_WEIGHTS)[0], 0)


async def throughput(floor: Floor, waiting: int, rep: int, rng: random.Random
                     ) -> tuple[int, float]:
    await floor.known(f"throughput {rep + 1}")
    now, names = time.time(), list(floor.pop.config.queues)
    calls = [random_call(f"tp{rep}-{i}", rng.choice(names), now, rng, 60)
             for i in range(waiting)]
    await in_chunks(floor.join(c) for c in calls)
    rung_before = len(floor.pbx.rings)
    made, start = 0, time.perf_counter()
    while made < waiting and (pairs := await floor.queues.match_round()):
        made += pairs
    elapsed = time.perf_counter() - start
    if len(floor.pbx.rings) - rung_before != made:
        raise BenchFailed(f"{made} reservations, {len(floor.pbx.rings) - rung_before} rung")
    await floor.release_rung()
    await floor.empty_lines()
    return made, elapsed


async def one_at_a_time(floor: Floor, count: int, rng: random.Random) -> float:
    """Join one caller, run one round, release the agent; again. The median round, ms:
    each round finds the same floor, whatever its size."""
    await floor.known("one caller at a time")
    rounds: list[float] = []
    for i in range(count):
        await floor.join(random_call(f"one-{i}", rng.choice(floor.pop.open_queues),
                                     time.time(), rng, 0))
        began = time.perf_counter()
        await floor.queues.match_round()
        rounds.append(time.perf_counter() - began)
        await floor.release_rung()
    await floor.empty_lines()
    return statistics.median(rounds) * 1000


class Pauses:
    """The garbage collector's pauses while it is installed: a long one stalls every
    caller arriving meanwhile, so the latency line says how many there were."""

    def __init__(self) -> None:
        self.longest, self.count, self._began = 0.0, 0, 0.0

    def __enter__(self) -> Pauses:
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.count += 1
            self.longest = max(self.longest, time.perf_counter() - self._began)


async def until(moment: float) -> None:
    """Sleep until `moment` (perf_counter). The loop's timers fire up to a millisecond
    late (epoll rounds its wait up to whole milliseconds), which would be counted as the
    matcher's latency; so the timer is set a millisecond early and the rest is spent
    yielding to the loop: a late arrival means a busy loop."""
    if (pause := moment - time.perf_counter() - 0.001) > 0:
        await asyncio.sleep(pause)
    while time.perf_counter() < moment:
        await asyncio.sleep(0)


@dataclass
class Latency:
    latencies: list[float]
    unserved: int
    achieved: float
    pauses: Pauses


async def latency(floor: Floor, waiting: int, rate: float, seconds: float,
                  rng: random.Random) -> Latency:
    pop, store, queues = floor.pop, floor.store, floor.queues
    await floor.known("latency")
    await in_chunks(store.apply(a, Move.GO_NOT_READY, time.time(), reason="busy")
                    for a in pop.busy_agents)
    await floor.known("latency's backlog", ready=len(pop.config.agents) - len(pop.busy_agents))
    now = time.time()
    await in_chunks(floor.join(random_call(f"back-{i}", rng.choice(pop.busy_queues), now,
                                           rng, 10)) for i in range(waiting))
    if await queues.match_round():
        raise BenchFailed("a busy agent's caller was paired")
    arrivals: dict[str, float] = {}  # call id -> scheduled time
    latencies: list[float] = []
    talk = random.Random(11)
    loop = asyncio.get_running_loop()

    def rung(ring: Ring) -> None:
        scheduled = arrivals.pop(ring.call_id, None)
        if scheduled is not None:
            latencies.append(ring.at - scheduled)
        # A timer, not a task asleep for the talk time: hundreds of sleeping tasks would
        # be the benchmark's own garbage, collected in pauses counted as the matcher's.
        loop.call_later(talk.uniform(0.5, 1.5), lambda: hang_up(ring))

    def hang_up(ring: Ring) -> None:
        task = asyncio.ensure_future(floor.release(ring))
        floor.pending.add(task)
        task.add_done_callback(floor.pending.discard)

    async def arrive(i: int, scheduled: float) -> None:
        call = random_call(f"arr-{i}", rng.choice(pop.open_queues), time.time(), rng, 0)
        arrivals[call.call_id] = scheduled
        await floor.join(call)
        queues.wake()

    floor.pbx.on_ring = rung
    queues.start()
    total = int(rate * seconds)
    joining: set[asyncio.Task[None]] = set()
    with Pauses() as pauses:
        start = time.perf_counter()
        for i in range(total):
            scheduled = start + i / rate
            await until(scheduled)
            task = asyncio.ensure_future(arrive(i, scheduled))
            joining.add(task)
            task.add_done_callback(joining.discard)
        deadline = time.perf_counter() + 3
        while arrivals and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        achieved = len(latencies) / (time.perf_counter() - start)
    await asyncio.gather(*joining)
    await asyncio.sleep(1.6)  # the last agents hang up
    await queues.stop()
    floor.pbx.on_ring = None
    still = sum(map(len, (await store.view.waiting_in(pop.busy_queues)).values()))
    if still != waiting:
        raise BenchFailed(f"{waiting - still} of the busy agents' callers were paired")
    return Latency(latencies, len(arrivals), achieved, pauses)


async def ceiling(redis: Redis, calls: int, rep: int) -> float:
    """Bare EVALSHA of the reservation script with one pair per call, each pairing a
    fresh ready agent with a fresh waiting caller, back to back on one connection."""
    store = RoutingStore(redis, f"ceiling-{rep}:")
    now = time.time()
    pairs = [(f"c{i}", WaitingCall(f"call{i}", "line", now)) for i in range(calls)]
    async with redis.pipeline(transaction=False) as pipe:
        for agent_id, call in pairs:
            pipe.hset(store.keys.agent(agent_id), mapping={"state": "ready", "idle_since": now})
            pipe.zadd(store.keys.ready, {agent_id: now})
            pipe.hset(store.keys.call(call.call_id), mapping={
                "state": "waiting", "queue": call.queue, "arrived_at": now})
            pipe.zadd(store.keys.waiting(call.queue), {call.call_id: now})
        await pipe.execute()
    script = store.scripts.reserve
    await redis.script_load(script.script)
    bare = [store.reservation([pair], now) for pair in pairs]
    start = time.perf_counter()
    for keys, args in bare:
        await redis.evalsha(script.sha, len(keys), *keys, *args)
    elapsed = time.perf_counter() - start
    if await redis.zcard(store.keys.ready) != 0:
        raise BenchFailed("the bare script did not reserve every pair")
    return calls / elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def opened(pop: Population, freeze: bool) -> tuple[LocalRedis, Redis, Floor]:
    """A fresh redis-server, the queue service on it, and every agent ready."""
    server = LocalRedis().start()
    redis = connect(server.url)
    store = RoutingStore(redis, "bench:")
    pbx = StandInPbx()
    queues = Queues(cast(AmiConnection, pbx), store, lambda: pop.config, time.time,
                    dial_strings_set=lambda: True)
    floor = Floor(pop, store, queues, pbx)
    await in_chunks(store.apply(a, Move.LOG_IN, time.time()) for a in pop.config.agents)
    await in_chunks(store.apply(a, Move.GO_READY, time.time()) for a in pop.config.agents)
    await queues.match_round()  # the engine's first round: the whole ready set, read once
    if freeze:
        settle_after_activation()  # as the engine does once a config version is active
    return server, redis, floor


async def closed(server: LocalRedis, redis: Redis, floor: Floor) -> None:
    await asyncio.gather(*floor.pending, return_exceptions=True)
    await floor.queues.stop()
    await redis.aclose()
    server.stop()


async def one_run(args: argparse.Namespace, pop: Population, run: int) -> dict[str, float]:
    rng = random.Random(args.seed + run)
    server, redis, floor = await opened(pop, not args.no_gc_freeze)
    try:
        rates, ceilings = [], []
        for rep in range(REPEATS):
            made, elapsed = await throughput(floor, args.waiting, rep, rng)
            rates.append(made / elapsed)
            ceilings.append(await ceiling(redis, CEILING_CALLS, run * REPEATS + rep))
            print(f"  throughput {rep + 1}: {made} of {args.waiting} waiting callers paired "
                  f"in {elapsed * 1000:.0f} ms = {rates[-1]:,.0f} decisions/s; bare EVALSHA "
                  f"of the reservation script {ceilings[-1]:,.0f} calls/s")
        round_ms = await one_at_a_time(floor, ONE_AT_A_TIME, rng)
        print(f"  one caller at a time (join, a round, release): median round "
              f"{round_ms:.3f} ms")
        seen = await latency(floor, args.waiting, args.rate, args.seconds, rng)
        p50, p99 = (percentile(seen.latencies, q) * 1000 for q in (0.50, 0.99))
        print(f"  latency: {len(seen.latencies)} decisions ({seen.achieved:,.0f}/s), "
              f"{seen.unserved} arrivals unserved; p50 {p50:.2f} ms, p99 {p99:.2f} ms, max "
              f"{max(seen.latencies) * 1000:.2f} ms; {seen.pauses.count} garbage "
              f"collections, the longest {seen.pauses.longest * 1000:.1f} ms")
    finally:
        await closed(server, redis, floor)
    decisions, top = statistics.median(rates), statistics.median(ceilings)
    return {"decisions_per_s": decisions, "p50_ms": p50, "p99_ms": p99,
            "evalsha_ceiling_per_s": top, "ratio": decisions / top, "round_ms": round_ms,
            "unserved": seen.unserved}


async def scaling_round(args: argparse.Namespace, agents: int) -> float:
    pop = population(agents, args.skills, random.Random(args.seed))
    server, redis, floor = await opened(pop, not args.no_gc_freeze)
    try:
        return await one_at_a_time(floor, ONE_AT_A_TIME, random.Random(args.seed))
    finally:
        await closed(server, redis, floor)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    pop = population(args.agents, args.skills, random.Random(args.seed))
    print(f"{args.agents} agents over {args.skills} skills, {len(pop.config.queues)} "
          f"queues; {len(pop.busy_agents)} agents hold a busy family's skill; "
          f"{args.runs} runs, each on a fresh redis-server"
          + ("" if not args.no_gc_freeze else "; gc.freeze() NOT used"))
    runs: list[dict[str, float]] = []
    failed = 0
    for number in range(args.runs):
        print(f"run {number + 1}:")
        try:
            runs.append(await one_run(args, pop, number))
        except Exception:
            failed += 1
            print(f"  run {number + 1} FAILED:\n{traceback.format_exc()}")
    result: dict[str, Any] = {"runs_failed": failed}
    for key in ("decisions_per_s", "p50_ms", "p99_ms", "evalsha_ceiling_per_s", "ratio",
                "round_ms", "unserved"):
        values = [r[key] for r in runs]
        result[key] = statistics.median(values) if values else float("nan")
        result[f"{key}_range"] = (min(values), max(values)) if values else (0.0, 0.0)
    if not args.no_scaling:
        for agents in SCALING_FLOORS:
            ms = await scaling_round(args, agents)
            result[f"round_ms_{agents // 1000}k"] = ms
            print(f"one caller at a time on {agents:,} agents: median round {ms:.3f} ms")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--no-gc-freeze", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args))

    def spread(key: str, form: str) -> str:
        low, high = result[f"{key}_range"]
        return f"{format(result[key], form)} ({format(low, form)}-{format(high, form)})"

    verdicts = [("decisions/s >= 10,000", result["decisions_per_s"] >= 10000),
                ("p99 < 3 ms", result["p99_ms"] < 3),
                ("ratio >= 1.5", result["ratio"] >= 1.5),
                ("no run failed", result["runs_failed"] == 0)]
    if "round_ms_20k" in result:
        verdicts.append(("20k round <= 1.5x the 1k round",
                         result["round_ms_20k"] <= 1.5 * result["round_ms_1k"]))
    clean = args.runs - result["runs_failed"]
    print(f"median (range) over {clean} clean runs of "
          f"{args.runs}: {spread('decisions_per_s', ',.0f')} decisions/s; p50 "
          f"{spread('p50_ms', '.2f')} ms, p99 {spread('p99_ms', '.2f')} ms; bare EVALSHA "
          f"{spread('evalsha_ceiling_per_s', ',.0f')}/s; ratio {spread('ratio', '.2f')}; "
          + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts))
    def rounded(value: float, places: int) -> float | None:
        if value != value:  # NaN: no clean run
            return None
        return round(value, places) if places else round(value)

    figures: dict[str, Any] = {
        "decisions_per_s": rounded(result["decisions_per_s"], 0),
        "p50_ms": rounded(result["p50_ms"], 3), "p99_ms": rounded(result["p99_ms"], 3),
        "evalsha_ceiling_per_s": rounded(result["evalsha_ceiling_per_s"], 0),
        "ratio": rounded(result["ratio"], 3), "runs_failed": result["runs_failed"]}
    for key in ("round_ms_1k", "round_ms_20k"):
        if key in result:
            figures[key] = round(result[key], 3)
    figures["decisions_per_s_range"] = [round(v) for v in result["decisions_per_s_range"]]
    figures["p99_ms_range"] = [round(v, 3) for v in result["p99_ms_range"]]
    figures["ratio_range"] = [round(v, 3) for v in result["ratio_range"]]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

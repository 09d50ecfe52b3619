"""Matching callers to agents at scale: 5,000 agents, 100 skills, 2,000 waiting callers.

    python bench/router.py [--agents 5000] [--skills 100] [--waiting 2000] [--rate 500]
                           [--seconds 10] [--seed 7]

Runs the engine's real matcher (`Matcher.match_round`: the routing store's reads, the
decisions of `routing.decide`, the reservation script) against its own redis-server.
Only the ringing of the agent's phone is left out: where the engine would send AMI
actions, the benchmark notes the time, and later "releases" the agent by moving it back
to ready through the store's real moves (cancel offer: reserved -> ready), so the pool
does not drain.

A decision is one caller paired with an agent: the best free agent fitting the caller's
queue is found and reserved in Redis.

- Throughput: 2,000 callers are waiting, every agent is ready; rounds run back to back
  until all are paired. decisions/s = pairs / time. Three times; the median counts.
  (For comparison it also prints one caller at a time: join, one round, again.)
- Latency: every agent holding a skill of five skill families (a fifth of the skills)
  is set not ready, "busy", and the 2,000 callers wait in the queues only they serve;
  callers arrive in the other queues at 500/s on a fixed schedule, the matcher running
  as in the engine (`_match_forever`, woken by each arrival). Latency = reservation made
  - the arrival's scheduled time (a late schedule counts against the matcher), so it
  includes joining the line.
- Ceiling: the reservation script called bare (`EVALSHA`, each call a ready agent and
  a waiting caller, so it does its real work), back to back from one client; measured
  after each throughput run, the median counts. ratio = decisions/s / ceiling.

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
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis

from agents.state import Move
from config.model import HotlineConfig
from config.queues import Agent, Queue, RelaxStep, Skill, TierRule, Vip
from hotline.dev.local_redis import LocalRedis
from hotline.queues.connecting import Connector
from hotline.queues.matching import Matcher
from hotline.runtime.redis_client import connect
from hotline.runtime.supervisor import Supervisor
from routing.decide import WaitingCall
from routing.store import RoutingStore

FAMILY = 4  # skills per family (billing, faults, ... in one language, say)
BUSY_FAMILIES = 5
TIERS = ["normal", "silver", "gold", "diamond"]
TIER_WEIGHTS = [85, 8, 5, 2]
CEILING_CALLS = 3000
REPEATS = 3


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


@dataclass
class Outcomes:
    """What the matcher reserved, and when."""

    arrivals: dict[str, float] = field(default_factory=dict)  # call id -> scheduled time
    latencies: list[float] = field(default_factory=list)
    reserved: list[str] = field(default_factory=list)  # agents to release later
    talk: tuple[float, float] | None = None  # release after this long, while running
    rng: random.Random = field(default_factory=lambda: random.Random(11))


class BenchMatcher(Matcher):
    """The engine's matcher; where it would ring the agent, it notes the decision."""

    outcomes: Outcomes
    release: Callable[[str], Coroutine[Any, Any, None]]

    def connect(self, config: HotlineConfig, call: WaitingCall, agent_id: str) -> None:
        # Called right after the reservation succeeded, within the round.
        scheduled = self.outcomes.arrivals.pop(call.call_id, None)
        if scheduled is not None:
            self.outcomes.latencies.append(time.perf_counter() - scheduled)
        if self.outcomes.talk is None:
            self.outcomes.reserved.append(agent_id)
            return
        # A timer, not a task asleep for the talk time: hundreds of sleeping tasks would
        # be the benchmark's own garbage, collected in pauses counted as the matcher's.
        asyncio.get_running_loop().call_later(
            self.outcomes.rng.uniform(*self.outcomes.talk),
            lambda: self.supervisor.spawn(self.release(agent_id), "releasing an agent"))

    async def stop(self) -> None:
        await self.supervisor.stop()


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


async def throughput(queues: BenchMatcher, store: RoutingStore, pop: Population,
                     waiting: int, rep: int, rng: random.Random) -> tuple[int, float]:
    now, names = time.time(), list(pop.config.queues)
    calls = [random_call(f"tp{rep}-{i}", rng.choice(names), now, rng, 60)
             for i in range(waiting)]
    await in_chunks(store.join(c, f"PJSIP/{c.call_id}") for c in calls)
    made, start = 0, time.perf_counter()
    while made < waiting and (pairs := await queues.match_round()):
        made += pairs
    elapsed = time.perf_counter() - start
    await release_all(queues, store)
    left = (await store.view.waiting_in(names)).values()
    await in_chunks(store.leave(c.call_id, c.queue) for line in left for c in line)
    return made, elapsed


async def release_all(queues: BenchMatcher, store: RoutingStore) -> None:
    reserved, queues.outcomes.reserved = queues.outcomes.reserved, []
    await in_chunks(store.apply(a, Move.CANCEL_OFFER, time.time()) for a in reserved)


async def one_at_a_time(queues: BenchMatcher, store: RoutingStore, pop: Population,
                        count: int, rng: random.Random) -> tuple[float, float]:
    """Join one caller, run one round; again. Returns (decisions/s, mean round ms)."""
    rounds = 0.0
    start = time.perf_counter()
    for i in range(count):
        call = random_call(f"one-{i}", rng.choice(pop.open_queues), time.time(), rng, 0)
        await store.join(call, f"PJSIP/{call.call_id}")
        began = time.perf_counter()
        await queues.match_round()
        rounds += time.perf_counter() - began
    elapsed = time.perf_counter() - start
    await release_all(queues, store)
    left = (await store.view.waiting_in(pop.open_queues)).values()
    await in_chunks(store.leave(c.call_id, c.queue) for line in left for c in line)
    return count / elapsed, rounds / count * 1000


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


async def latency(queues: BenchMatcher, store: RoutingStore, pop: Population, rate: float,
                  seconds: float, rng: random.Random) -> tuple[list[float], int, float]:
    outcomes = queues.outcomes
    outcomes.talk = (0.5, 1.5)
    total = int(rate * seconds)
    tasks: set[asyncio.Task[None]] = set()

    async def arrive(i: int, scheduled: float) -> None:
        call = random_call(f"arr-{i}", rng.choice(pop.open_queues), time.time(), rng, 0)
        outcomes.arrivals[call.call_id] = scheduled
        await store.join(call, f"PJSIP/{call.call_id}")
        queues.wake()

    queues.start()
    start = time.perf_counter()
    for i in range(total):
        scheduled = start + i / rate
        await until(scheduled)
        task = asyncio.ensure_future(arrive(i, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    deadline = time.perf_counter() + 3
    while outcomes.arrivals and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    achieved = len(outcomes.latencies) / (time.perf_counter() - start)
    unserved = len(outcomes.arrivals)
    await asyncio.sleep(1.6)  # the last releases
    await queues.stop()
    return outcomes.latencies, unserved, achieved


async def ceiling(redis: Redis, calls: int, rep: int) -> float:
    """Bare EVALSHA of the reservation script, each call pairing a fresh ready agent with
    a fresh waiting caller, back to back on one connection."""
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
    bare = [store.reservation(agent_id, call, now) for agent_id, call in pairs]
    start = time.perf_counter()
    for keys, args in bare:
        await redis.evalsha(script.sha, len(keys), *keys, *args)
    elapsed = time.perf_counter() - start
    assert await redis.zcard(store.keys.ready) == 0, "the script did not reserve every pair"
    return calls / elapsed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(args.seed)
    pop = population(args.agents, args.skills, rng)
    server = LocalRedis().start()
    redis = connect(server.url)
    try:
        store = RoutingStore(redis, "bench:")
        queues = BenchMatcher(store, cast(Connector, None), lambda: pop.config, time.time,
                              Supervisor())
        queues.outcomes = Outcomes()

        async def release(agent_id: str) -> None:
            await store.apply(agent_id, Move.CANCEL_OFFER, time.time())

        queues.release = release
        began = time.perf_counter()
        await in_chunks(store.apply(a, Move.LOG_IN, time.time()) for a in pop.config.agents)
        await in_chunks(store.apply(a, Move.GO_READY, time.time()) for a in pop.config.agents)
        print(f"{args.agents} agents over {args.skills} skills, {len(pop.config.queues)} "
              f"queues; all logged in and ready through the store's moves in "
              f"{time.perf_counter() - began:.1f}s")

        await queues.match_round()  # the engine's first round: the whole ready set, read once
        rates, ceilings = [], []
        for rep in range(REPEATS):
            made, elapsed = await throughput(queues, store, pop, args.waiting, rep, rng)
            rates.append(made / elapsed)
            ceilings.append(await ceiling(redis, CEILING_CALLS, rep))
            print(f"  throughput {rep + 1}: {made} of {args.waiting} waiting callers paired "
                  f"in {elapsed * 1000:.0f} ms = {rates[-1]:,.0f} decisions/s; bare EVALSHA "
                  f"of the reservation script {ceilings[-1]:,.0f} calls/s")
        decisions, top = statistics.median(rates), statistics.median(ceilings)

        per_s, round_ms = await one_at_a_time(queues, store, pop, 500, rng)
        print(f"  one caller at a time (join, then a round), back to back: {per_s:,.0f}/s, "
              f"{round_ms:.2f} ms per round")

        await in_chunks(store.apply(a, Move.GO_NOT_READY, time.time(), reason="busy")
                        for a in pop.busy_agents)
        now = time.time()
        await in_chunks(store.join(c, f"PJSIP/{c.call_id}") for c in (
            random_call(f"back-{i}", rng.choice(pop.busy_queues), now, rng, 10)
            for i in range(args.waiting)))
        await queues.match_round()  # callers left from above, if any, and the new view
        backlog = sum(map(len, (await store.view.waiting_in(pop.busy_queues)).values()))
        assert backlog == args.waiting, "the busy agents' callers should all be waiting"
        print(f"latency: {len(pop.busy_agents)} agents busy; {args.waiting} callers waiting "
              f"in their {len(pop.busy_queues)} queues; callers arrive in the other "
              f"{len(pop.open_queues)} queues at {args.rate:g}/s for {args.seconds:g}s, "
              f"agents back to ready 0.5-1.5 s after each reservation")
        with Pauses() as pauses:
            latencies, unserved, achieved = await latency(queues, store, pop, args.rate,
                                                          args.seconds, rng)
        p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
        print(f"  {len(latencies)} decisions ({achieved:,.0f}/s), {unserved} arrivals "
              f"unserved; latency p50 {p50:.2f} ms, p99 {p99:.2f} ms, max "
              f"{max(latencies) * 1000:.2f} ms; {pauses.count} garbage collections, "
              f"the longest {pauses.longest * 1000:.1f} ms")
        still = sum(len(line) for line in (await store.view.waiting_in(pop.busy_queues)).values())
        print(f"  callers still waiting for the busy agents: {still}")
    finally:
        await redis.aclose()
        server.stop()
    return {"decisions_per_s": decisions, "p50_ms": p50, "p99_ms": p99,
            "evalsha_ceiling_per_s": top, "ratio": decisions / top}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=5000)
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(run(args))
    verdicts = [("decisions/s >= 2,000", result["decisions_per_s"] >= 2000),
                ("p99 < 5 ms", result["p99_ms"] < 5),
                ("ratio >= 0.30", result["ratio"] >= 0.30)]
    print(f"matching {result['decisions_per_s']:,.0f} decisions/s, p50 "
          f"{result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms; bare-Redis ceiling "
          f"{result['evalsha_ceiling_per_s']:,.0f}/s; ratio {result['ratio']:.2f}; "
          + ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in verdicts))
    print(json.dumps({"decisions_per_s": round(result["decisions_per_s"]),
                      "p50_ms": round(result["p50_ms"], 3),
                      "p99_ms": round(result["p99_ms"], 3),
                      "evalsha_ceiling_per_s": round(result["evalsha_ceiling_per_s"]),
                      "ratio": round(result["ratio"], 3)}))


if __name__ == "__main__":
    main()

"""Ten minutes of a steady crowd: does the engine lose a call, a recording or memory?

    python bench/soak.py [--calls 100] [--minutes 10] [--warm-up 60]

It starts its own Asterisk sandbox instance, redis-server (append-only, as the embedded
default) and one real `hotline serve` process serving bench/data/soak.yaml. `--calls`
simulated callers (Local channels) are on the line at every moment: when one call ends,
that caller calls again. Two in five are menu callers (they press 1 and hear goodbye),
the others press 0, wait for one of 60 agents and talk 30 s; one served call in ten is
sampled for a satisfaction callback that the customer answers and grades. Every call is
recorded.

At the end no new call is placed; once the last has ended and the engine has filed the
recordings, every call is checked:
- lost: it never reached the engine, was sent to a person by a failure (the dialplan's
  fallback), or, for a caller who asked for a person, never reached an agent;
- missing recording: not filed, or filed with problems (missing, empty, short).

The engine's resident memory is sampled every 5 s; its growth is from the end of the
warm-up to the end of the load. Redis's memory per finished call is `used_memory`'s
growth over the same span divided by the calls finished in it (per-call keys are kept
for days, so this is the cost per call before retention removes them). Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis

from agents.state import Move
from hotline.calls.records import CallLog
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.serving import ServeProcesses
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.runtime.redis_client import connect
from pbx.ami import AmiConnection, AmiError
from pbx.ami_codec import Message
from pbx.originate import AmiOriginator
from quality.recording_index import RecordingIndex
from quality.survey_jobs import SurveyJobs
from routing.store import RoutingStore

CONFIG = Path(__file__).resolve().parent / "data" / "soak.yaml"
PREFIX = "bench-soak:"
MENU_SHARE = 0.4
CALL_MAX_S = 150.0  # a caller still on after this is stuck: the bench moves on
FILE_GRACE_S = 20.0  # after the last hangup, for the engine to file the recordings


@dataclass
class Placed:
    call_id: str
    wants_agent: bool
    at: float
    ended_at: float | None = None


class Watch:
    """The hangups and fallbacks Asterisk reports, as they happen."""

    def __init__(self) -> None:
        self.ended: dict[str, asyncio.Event] = {}
        self.ended_at: dict[str, float] = {}
        self.to_person: set[str] = set()

    def expect(self, call_id: str) -> asyncio.Event:
        return self.ended.setdefault(call_id, asyncio.Event())

    def __call__(self, msg: Message) -> None:
        if msg.get("Event") == "Hangup":
            call_id = msg.get("Uniqueid", "")
            if call_id in self.ended:
                self.ended_at.setdefault(call_id, time.monotonic())
                self.ended[call_id].set()
        elif msg.get("UserEvent") == "HotlineFallback":
            self.to_person.add(msg.get("CallId", ""))


@dataclass
class Samples:
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (monotonic, MB)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def redis_used(redis: Redis) -> int:
    return int((await redis.info("memory"))["used_memory"])


async def sample(pid: int, samples: Samples) -> None:
    while True:
        samples.rss_mb.append((time.monotonic(), rss_mb(pid)))
        await asyncio.sleep(5)


async def caller(slot: int, ami: AmiConnection, watch: Watch, placed: list[Placed],
                 until: float, rng: random.Random) -> None:
    """One seat of the crowd: calls, and calls again as soon as the call is over."""
    originator = AmiOriginator(ami)
    n = 0
    while time.monotonic() < until:
        n += 1
        wants_agent = rng.random() >= MENU_SHARE
        person = SimulatedCaller(caller_number=f"135{slot:04d}{n:04d}", caller_name="Soak",
                                 keys="0" if wants_agent else "1", delay=2.0, stay=120)
        ended = watch.expect(person.call_id)
        try:
            call_id = await place_call(originator, person)
        except AmiError as exc:
            print(f"  seat {slot}: a call could not be placed: {exc}", flush=True)
            await asyncio.sleep(1)
            continue
        call = Placed(call_id, wants_agent, time.monotonic())
        placed.append(call)
        try:
            await asyncio.wait_for(ended.wait(), CALL_MAX_S)
        except TimeoutError:
            print(f"  seat {slot}: call {call_id} still up after {CALL_MAX_S:.0f}s", flush=True)
        call.ended_at = watch.ended_at.get(call_id)
        await asyncio.sleep(rng.uniform(0.0, 1.0))  # callers do not redial in lockstep


@dataclass
class Tally:
    lost: Counter[str] = field(default_factory=Counter)
    missing: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    surveys_done: int = 0
    surveys_sampled: int = 0


async def tally(redis: Redis, watch: Watch, placed: list[Placed]) -> Tally:
    store = RoutingStore(redis, PREFIX)
    call_log = CallLog(redis, PREFIX, time.time, 60)
    index = RecordingIndex(redis, PREFIX)
    jobs = SurveyJobs(redis, PREFIX)
    result = Tally()

    def lose(kind: str, call: Placed, counter: Counter[str]) -> None:
        counter[kind] += 1
        if len(result.examples) < 10:
            result.examples.append(f"{call.call_id}: {kind}")

    for call in placed:
        record = await call_log.record(call.call_id)
        routed = await store.call(call.call_id)
        if "started" not in record:
            lose("never reached the engine", call, result.lost)
        elif call.call_id in watch.to_person:
            lose("sent to a person by a failure", call, result.lost)
        elif call.wants_agent and not routed.get("agent"):
            lose("never reached an agent", call, result.lost)
        elif call.ended_at is None:
            lose(f"still up after {CALL_MAX_S:.0f}s", call, result.lost)
        entry = await index.entry(call.call_id)
        if "sha256" not in entry:
            lose("recording not filed", call, result.missing)
        elif json.loads(entry.get("problems", "[]")):
            lose(f"recording problems {entry['problems']}", call, result.missing)
        job = await jobs.state(call.call_id)
        if job:
            result.surveys_sampled += 1
            result.surveys_done += job.get("state") == "done"
    return result


async def run(box: sandbox.SandboxInstance, server: LocalRedis, calls: int, seconds: float,
              warm_up: float, logs: Path) -> dict[str, object]:
    redis = connect(server.url)
    watch = Watch()
    ami = AmiConnection(box.ami, lambda _event: None)
    ami.add_raw_listener(watch)
    ami.start()
    await ami.wait_up(30)
    serving = ServeProcesses(sandbox.serve_environment(box, server.url, PREFIX, CONFIG),
                             PREFIX, logs, redis, name="soak")
    placed: list[Placed] = []
    samples = Samples()
    try:
        proc, _lease = await serving.start()
        store = RoutingStore(redis, PREFIX)
        now = time.time()
        for n in range(1, 61):
            await store.apply(f"4{n:03d}", Move.LOG_IN, now)
            await store.apply(f"4{n:03d}", Move.GO_READY, now)
        sampler = asyncio.create_task(sample(proc.pid, samples))
        began = time.monotonic()
        end = began + seconds
        rng = random.Random(20261201)
        seats = [asyncio.create_task(caller(s, ami, watch, placed, end, rng))
                 for s in range(calls)]
        await asyncio.sleep(warm_up)
        warm = (time.monotonic(), rss_mb(proc.pid), await redis_used(redis),
                sum(c.ended_at is not None for c in placed))
        print(f"warmed up after {warm_up:.0f}s: {len(placed)} calls placed, engine RSS "
              f"{warm[1]:.1f} MB, Redis {warm[2] / 1e6:.1f} MB", flush=True)
        while time.monotonic() < end:
            await asyncio.sleep(min(60.0, max(end - time.monotonic(), 0.0)))
            print(f"  {time.monotonic() - began:4.0f}s: {len(placed)} calls placed, "
                  f"{sum(c.ended_at is not None for c in placed)} ended, engine RSS "
                  f"{rss_mb(proc.pid):.1f} MB, Redis {await redis_used(redis) / 1e6:.1f} MB",
                  flush=True)
        loaded = (rss_mb(proc.pid), await redis_used(redis),
                  sum(c.ended_at is not None for c in placed))
        await asyncio.gather(*seats)  # the last calls end
        sampler.cancel()
        await asyncio.sleep(FILE_GRACE_S)
        result = await tally(redis, watch, placed)
    finally:
        await serving.stop()
        await sandbox.hang_up_everyone(ami)
        await ami.close()
        await redis.aclose()
    finished_after_warm_up = max(loaded[2] - warm[3], 1)
    peak = max(mb for _t, mb in samples.rss_mb)
    for kind, count in (result.lost + result.missing).most_common():
        print(f"  {count} x {kind}")
    for example in result.examples:
        print(f"    e.g. {example}")
    durations = [c.ended_at - c.at for c in placed if c.ended_at is not None]
    print(f"{len(placed)} calls at {calls} at once for {seconds:.0f}s; median call "
          f"{statistics.median(durations):.1f}s; surveys sampled {result.surveys_sampled}, "
          f"answered {result.surveys_done}; engine RSS {warm[1]:.1f} MB after warm-up, "
          f"{loaded[0]:.1f} MB at the end, peak {peak:.1f} MB")
    return {
        "calls": len(placed),
        "lost_calls": sum(result.lost.values()),
        "missing_recordings": sum(result.missing.values()),
        "engine_rss_growth_mb": round(loaded[0] - warm[1], 1),
        "redis_bytes_per_finished_call": round((loaded[1] - warm[2]) / finished_after_warm_up),
        "tracebacks": serving.tracebacks(),
        "concurrent": calls,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100, help="callers on the line at once")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--warm-up", type=float, default=60.0, help="seconds")
    parser.add_argument("--logs", type=Path, help="keep the engine's log in this directory")
    parser.add_argument("--instance", default="bench-soak", help="sandbox instance name")
    parser.add_argument("--rtp-start", type=int, default=54000 + 2 * (os.getpid() % 2000))
    args = parser.parse_args()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    with sandbox.owned(args.instance, args.rtp_start) as box, LocalRedis() as server, \
            tempfile.TemporaryDirectory(prefix="bench-soak-") as scratch:
        print(f"sandbox '{box.name}' up (AMI {box.ami.port}), redis on {server.port}; "
              f"{args.calls} callers at once for {args.minutes:g} min", flush=True)
        figures = asyncio.run(run(box, server, args.calls, args.minutes * 60, args.warm_up,
                                  args.logs or Path(scratch)))
    print(f"done in {time.monotonic() - began:.0f}s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Concurrent recorded calls on the real sandbox: the most this machine records whole.

    python bench/recording_load.py [--series 5,10,20,40,80,160,240,320,400,480]
                                    [--call-seconds 9] [--budget 330]

It starts its own Asterisk sandbox instance and its own redis-server on free ports, and
a real Engine serving bench/data/recording_load.yaml: every call is recorded by
MixMonitor from the moment the engine takes it, the caller hears the menu prompt and
hangs up while the menu still listens. For each N of the series, N simulated callers
(Local channels into the sim-caller context) call at once; once every call has ended
and been checked by the engine, a recording is missing when the call never reached the
engine, was never indexed, or its index entry lists problems (no file, empty, short).
The series stops at the first N with a missing recording.

CPU is Asterisk's process plus this process (the engine, and the bench's own driving of
it, which is small), as percent of one core over each round's wall time; redis-server is
shown apart. Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from pbx.events import AmiLost, PbxEvent

CONFIG = Path(__file__).resolve().parent / "data" / "recording_load.yaml"
SERIES = (5, 10, 20, 40, 80, 160, 240, 320, 400, 480)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# After the last channel is gone, how long the engine gets to check and index the files:
# its own settle time (1.5 s) plus room for a busy machine.
INDEX_GRACE = 10.0
POLL = 0.5

log = logging.getLogger("bench.recording_load")
# What varies between two log lines of one kind: call ids, paths, figures.
_VARYING = re.compile(r"sim-[0-9a-f]+|/\S+|\d+(?:\.\d+)?")


# --- CPU ---------------------------------------------------------------------------------

def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a whole process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name in parentheses may hold spaces: count fields after its ')'.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / CLOCK_TICKS


def asterisk_pid(box: sandbox.SandboxInstance) -> int:
    """The sandbox starts `chroot ROOT asterisk`, and chroot execs Asterisk in place: the
    pid in the instance's state is Asterisk's own. Checked, since CPU figures of the
    wrong process would look plausible."""
    pid = int(str(box.state["pid"]))
    name = Path(f"/proc/{pid}/comm").read_text().strip()
    if name != "asterisk":
        raise RuntimeError(f"pid {pid} of sandbox '{box.name}' is {name!r}, not asterisk")
    return pid


@dataclass(frozen=True, slots=True)
class CpuTimes:
    wall: float
    asterisk: float
    engine: float
    redis: float


@dataclass(frozen=True, slots=True)
class CpuUse:
    """Percent of one core over a round."""

    asterisk: float
    engine: float
    redis: float

    @property
    def total(self) -> float:
        return self.asterisk + self.engine


@dataclass(frozen=True, slots=True)
class Meter:
    asterisk_pid: int
    redis_pid: int

    def read(self) -> CpuTimes:
        # process_time counts every thread of this process, so the engine's file checks
        # (run in worker threads) are included.
        return CpuTimes(time.perf_counter(), process_cpu_seconds(self.asterisk_pid),
                        time.process_time(), process_cpu_seconds(self.redis_pid))

    def since(self, before: CpuTimes) -> CpuUse:
        now = self.read()
        wall = max(now.wall - before.wall, 1e-9)

        def percent(used: float) -> float:
            return 100.0 * used / wall

        return CpuUse(percent(now.asterisk - before.asterisk),
                      percent(now.engine - before.engine), percent(now.redis - before.redis))


# --- what the engine reported ------------------------------------------------------------

class EngineLog(logging.Handler):
    """Warnings and errors the engine logged during a round: they say why a recording
    went missing (not indexed, bad file, AMI trouble) without flooding the output."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = f"{record.levelname.lower()} {record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            # The exception is the why of "recording did not start" and the like.
            error = record.exc_info[1]
            message += f" [{type(error).__name__}: {error}]"
        self.messages.append(message)

    def take(self) -> list[str]:
        taken, self.messages = self.messages, []
        return taken


@dataclass
class AmiLosses:
    """How often the engine lost its AMI connection: Asterisk cuts a reader that falls
    behind, and hangups sent while it was cut are never seen (nor indexed)."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def __call__(self, event: PbxEvent) -> None:
        if isinstance(event, AmiLost):
            self.count += 1
            self.reasons.append(event.reason)


# --- one round ---------------------------------------------------------------------------

@dataclass
class Round:
    calls: int
    wall: float = 0.0
    cpu: CpuUse = field(default_factory=lambda: CpuUse(0.0, 0.0, 0.0))
    not_placed: int = 0
    never_reached: int = 0
    not_indexed: int = 0
    bad: int = 0
    problems: list[str] = field(default_factory=list)
    # The most a whole recording fell short of its call, in seconds: how close the round
    # came to the engine's tolerance (2 s) before a recording counts as short.
    worst_gap: float = 0.0
    peak: int = 0  # calls the engine served at one moment: the concurrency reached
    ami_losses: int = 0
    engine_log: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.not_placed + self.never_reached + self.not_indexed + self.bad


def callers_for(calls: int, call_seconds: float) -> list[SimulatedCaller]:
    # No keys: each caller hears the prompt and stays in the menu until it hangs up.
    return [SimulatedCaller(caller_number=f"138{calls:04d}{i:04d}", caller_name="Bench",
                            keys="", delay=1.0, stay=call_seconds - 1.0)
            for i in range(calls)]


async def indexed(engine: Engine, call_ids: list[str]) -> set[str]:
    """The calls whose recording the engine has indexed (one pipeline per poll)."""
    async with engine.redis.pipeline(transaction=False) as pipe:
        for call_id in call_ids:
            pipe.exists(engine.recordings.key(call_id))
        found = await pipe.execute()
    return {call_id for call_id, hit in zip(call_ids, found, strict=True) if hit}


async def wait_indexed(engine: Engine, call_ids: list[str], call_seconds: float) -> None:
    """Until every call is indexed, or Asterisk has no channel left and the engine had
    INDEX_GRACE to index what it will ever index. A call that never reached the engine is
    never indexed, so waiting for all of them alone could wait forever."""
    started = time.monotonic()
    hard_deadline = started + call_seconds + 120.0
    idle_since: float | None = None
    pending = list(call_ids)
    while pending and time.monotonic() < hard_deadline:
        await asyncio.sleep(POLL)
        pending = [c for c in pending if c not in await indexed(engine, pending)]
        # Asking Asterisk costs it CPU that this round measures: only once calls can end.
        if not pending or time.monotonic() - started < call_seconds:
            continue
        if await sandbox.channels_up(engine.ami) == 0:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > INDEX_GRACE:
                return
        else:
            idle_since = None


async def peak_sessions(engine: Engine, result: Round) -> None:
    """Samples how many calls the engine serves at once, until cancelled: N calls placed
    together are only N concurrent calls if they overlap, which this shows."""
    while True:
        result.peak = max(result.peak, len(engine.calls.sessions))
        await asyncio.sleep(0.1)


async def place_all(engine: Engine, callers: list[SimulatedCaller]) -> list[str]:
    """All callers at once; the ids of the calls Asterisk accepted to place."""
    placed = await asyncio.gather(*(place_call(engine.originator, c) for c in callers),
                                  return_exceptions=True)
    for outcome in placed:
        if isinstance(outcome, BaseException):
            log.warning("a call could not be placed: %s", outcome)
    return [p for p in placed if isinstance(p, str)]


async def tally(engine: Engine, result: Round, call_ids: list[str]) -> None:
    """Sort each call that should have a whole recording and has not."""
    for call_id in call_ids:
        if "started" not in await engine.call_log.record(call_id):
            result.never_reached += 1
            continue
        entry = await engine.recordings.entry(call_id)
        if not entry:
            result.not_indexed += 1
            continue
        problems = json.loads(entry.get("problems", "[]"))
        if problems:
            result.bad += 1
            result.problems.extend(f"{call_id}: {p}" for p in problems)
        else:
            result.worst_gap = max(result.worst_gap, shortfall(entry))


def shortfall(entry: dict[str, str]) -> float:
    """Seconds of the call (the engine's start to hangup) the recording lacks."""
    call_seconds = (int(entry["ended"]) - int(entry["started"])) / 1000
    return max(call_seconds - float(entry.get("duration", 0.0)), 0.0)


async def run_round(engine: Engine, meter: Meter, losses: AmiLosses, engine_log: EngineLog,
                    calls: int, call_seconds: float) -> Round:
    await sandbox.wait_idle(engine.ami, 60.0, POLL)
    engine_log.take()  # what was logged before this round is not this round's
    lost_before = losses.count
    result = Round(calls)
    before = meter.read()
    sampler = asyncio.create_task(peak_sessions(engine, result))
    try:
        call_ids = await place_all(engine, callers_for(calls, call_seconds))
        result.not_placed = calls - len(call_ids)
        await wait_indexed(engine, call_ids, call_seconds)
    finally:
        sampler.cancel()
    result.cpu = meter.since(before)
    result.wall = time.perf_counter() - before.wall
    await tally(engine, result, call_ids)
    result.ami_losses = losses.count - lost_before
    result.engine_log = engine_log.take()
    return result


def describe(result: Round) -> list[str]:
    cpu = result.cpu
    lines = [
        f"N={result.calls:<4} peak {result.peak:>4} at once in the engine, "
        f"{result.calls - result.missing:>4} recorded whole, "
        f"{result.missing} missing (not placed {result.not_placed}, never reached the "
        f"engine {result.never_reached}, not indexed {result.not_indexed}, bad "
        f"{result.bad}), worst shortfall {result.worst_gap:.2f}s; round "
        f"{result.wall:.1f}s; CPU asterisk {cpu.asterisk:.1f}% + engine "
        f"{cpu.engine:.1f}% = {cpu.total:.1f}% of one core (redis {cpu.redis:.1f}%)"]
    if result.ami_losses:
        lines.append(f"    the engine lost AMI {result.ami_losses} time(s)")
    lines += [f"    problem: {p}" for p in result.problems[:5]]
    if result.engine_log:
        lines.append(f"    engine logged {len(result.engine_log)} warning(s)/error(s):")
        lines += [f"      {count} x {example[:180]}"
                  for count, example in log_kinds(result.engine_log)[:5]]
    return lines


def log_kinds(messages: list[str]) -> list[tuple[int, str]]:
    """Messages grouped by kind, most frequent first, each with one real example: a
    rare kind (a call not indexed) must not hide behind hundreds of a common one."""
    kinds = Counter(_VARYING.sub("#", m) for m in messages)
    examples: dict[str, str] = {}
    for message in messages:
        examples.setdefault(_VARYING.sub("#", message), message)
    return [(count, examples[kind]) for kind, count in kinds.most_common()]


# --- the whole run -----------------------------------------------------------------------

def engine_settings(box: sandbox.SandboxInstance, redis_url: str) -> Settings:
    state = box.state
    return replace(Settings(ami=box.ami, redis_url=redis_url), key_prefix="bench-rec:",
                   config_path=CONFIG, shutdown_grace=2.0,
                   prompts_dir=Path(str(state["sounds_dir"])),
                   prompts_dir_asterisk=str(state["sounds_dir_in_chroot"]),
                   recordings_dir=Path(str(state["recordings_dir"])),
                   recordings_dir_asterisk=str(state["recordings_dir_in_chroot"]),
                   secret_key=os.urandom(32))


async def climb(settings: Settings, meter: Meter, series: list[int],
                call_seconds: float, budget: float) -> list[Round]:
    """Rounds of rising N until one loses a recording, the series ends, or the next round
    would not fit in the time budget."""
    engine_log = EngineLog()
    logging.getLogger().addHandler(engine_log)
    losses = AmiLosses()
    redis = connect(settings.redis_url)
    engine = Engine(settings, redis, watch_config=False)
    engine.listeners.append(losses)
    rounds: list[Round] = []
    began = time.monotonic()
    try:
        await engine.start()  # renders the prompts with espeak-ng, outside the rounds
        for calls in series:
            spent = time.monotonic() - began
            guess = call_seconds + INDEX_GRACE + 10.0 + calls * 0.05
            if rounds and spent + guess > budget:
                print(f"N={calls}: skipped, it would not fit in the {budget:.0f}s budget")
                break
            result = await run_round(engine, meter, losses, engine_log, calls, call_seconds)
            rounds.append(result)
            print("\n".join(describe(result)), flush=True)
            if result.missing:
                break
    finally:
        await engine.stop()
        await redis.aclose()
        logging.getLogger().removeHandler(engine_log)
    return rounds


def summary(rounds: list[Round]) -> dict[str, object]:
    passed = [r for r in rounds if r.missing == 0]
    best = passed[-1] if passed else None
    failed = next((r for r in rounds if r.missing), None)
    return {
        "max_concurrent": best.calls if best else 0,
        "missing_recordings": best.missing if best else 0,
        "cpu_percent": round(best.cpu.total, 1) if best else 0.0,
        "cpu_percent_asterisk": round(best.cpu.asterisk, 1) if best else 0.0,
        "cpu_percent_engine": round(best.cpu.engine, 1) if best else 0.0,
        "cpu_percent_redis": round(best.cpu.redis, 1) if best else 0.0,
        "first_failing_n": failed.calls if failed else None,
        "missing_at_first_failing_n": failed.missing if failed else None,
        "cores": os.cpu_count(),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default=",".join(map(str, SERIES)),
                        help="rising numbers of concurrent calls, comma-separated")
    parser.add_argument("--call-seconds", type=float, default=9.0,
                        help="how long each caller stays on the line (at least 2)")
    parser.add_argument("--budget", type=float, default=330.0,
                        help="seconds the rounds may take in all; later rounds are skipped")
    parser.add_argument("--instance", default="bench-rec", help="sandbox instance name")
    parser.add_argument("--rtp-start", type=int, default=50000 + 2 * (os.getpid() % 4000))
    parser.add_argument("--keep", action="store_true",
                        help="keep the instance's recordings and logs (not purged)")
    args = parser.parse_args()
    if args.call_seconds < 2:
        parser.error("--call-seconds must be at least 2 (1 s before the caller settles)")
    return args


def main() -> None:
    args = parse_args()
    series = sorted(int(n) for n in args.series.split(","))
    # Nothing of the engine's goes to the console: EngineLog summarises it per round.
    logging.basicConfig(level=logging.WARNING, handlers=[logging.NullHandler()])
    began = time.monotonic()
    with sandbox.owned(args.instance, args.rtp_start, purge=not args.keep) as box, \
            LocalRedis() as server:
        assert server.process is not None  # started above
        meter = Meter(asterisk_pid(box), server.process.pid)
        print(f"sandbox '{box.name}' up (AMI {box.ami.port}, Asterisk pid "
              f"{meter.asterisk_pid}), redis on {server.port}; each call lasts "
              f"{args.call_seconds:g}s; series {series}", flush=True)
        rounds = asyncio.run(climb(engine_settings(box, server.url), meter, series,
                                   args.call_seconds, args.budget))
    print(f"done in {time.monotonic() - began:.0f}s")
    print(json.dumps(summary(rounds)))


if __name__ == "__main__":
    main()

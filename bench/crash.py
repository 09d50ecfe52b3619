"""kill -9 of `hotline serve` with calls in every state, again and again: is every call
taken over, and how fast?

    python bench/crash.py [--kills 5] [--mode alternate|restart|peer]

It starts its own Asterisk sandbox instance and redis-server on free ports, and real
`hotline serve` processes serving bench/data/crash.yaml. Each round places 34 calls
over Local channels: callers in the menu (mid-prompt), in the middle of a PIN, waiting,
ringing an agent who never answers, talking, an agent in wrap-up, and a survey callback
ringing the customer. Once every call is in its state, the serving engine is killed with
SIGKILL. In `restart` rounds the same engine is started again (a new lease id, like a
supervisor restarting it); in `peer` rounds a second engine was started beside it before
the kill and adopts. `alternate` takes turns, starting with a restart.

A call is recovered when it ends where it would have without the kill:
- menu, PIN, waiting: the caller hears the apology, keeps their place (menu and PIN
  callers press their keys after the restart and join the line), and reaches an agent;
- ringing: the agent is not left reserved, the caller waits again;
- talking: the conversation ends with the call's record complete;
- wrap-up: the agent is ready again on time (10 s, 1.5 s of slack);
- survey: the customer answers, grades, and is called once;
and, for every caller's call, the recording is filed without problems. A call is lost
otherwise, with the reason printed. Time to adoption is from the kill to the moment
Asterisk starts playing the apology (AGIExecStart) to each caller who was in the menu,
the PIN or the line: the end of their silence. An agent left reserved, ringing or on a
call 20 s after every channel has gone is stuck. Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis

from agents.state import AgentState, Move, MoveRefused
from hotline.calls.records import CallLog
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.serving import ServeProcesses
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.runtime.redis_client import connect
from pbx.ami import AmiConnection
from pbx.ami_codec import Message
from pbx.originate import AmiOriginator
from quality.recording_index import RecordingIndex
from quality.survey_jobs import SurveyJobs, attempt_of
from routing.store import RoutingStore

T = TypeVar("T")

CONFIG = Path(__file__).resolve().parent / "data" / "crash.yaml"
PREFIX = "bench-crash:"
APOLOGY = "one-moment-please"
WRAP_UP_S = 10.0  # the wrap queue's agents' wrap-up in crash.yaml
POLL = 0.1

# How many calls of each state a round places, the number they dial, the agents whose
# phones take them (crash.yaml), and whether the caller sits in AGI at the kill.
STATES: dict[str, tuple[int, str, str]] = {
    "menu": (8, "10000", ""),
    "pin": (5, "185", ""),
    "waiting": (8, "184", ""),
    "ringing": (4, "181", "32"),
    "talking": (4, "180", "31"),
    "wrap-up": (3, "183", "33"),
    "survey": (2, "186", "34"),
}
IN_AGI = ("menu", "pin", "waiting")
WAIT_AGENTS = [f"35{i:02d}" for i in range(1, 9)]
BUSY = {AgentState.RESERVED, AgentState.RINGING, AgentState.ON_CALL}


def agents_of(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i:02d}" for i in range(1, count + 1)]


ALL_AGENTS = [a for n, _d, p in STATES.values() if p for a in agents_of(p, n)] + WAIT_AGENTS


async def until(read: Callable[[], Awaitable[T]], timeout: float,
                holds: Callable[[T], object] = bool) -> T | None:
    """`read()` until `holds` of its value; the value, or None after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if holds(value):
            return value
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(POLL)


# --- one round ---------------------------------------------------------------------------

@dataclass
class Call:
    state: str
    call_id: str
    number: str
    lost: str = ""  # why, when the call did not end where it would have
    adopted_after: float | None = None


@dataclass
class Round:
    number: int
    mode: str
    calls: list[Call] = field(default_factory=list)
    stuck_agents: list[str] = field(default_factory=list)
    double_surveys: int = 0

    def of(self, state: str) -> list[Call]:
        return [c for c in self.calls if c.state == state]


class Heard:
    """What Asterisk reports it did, as it happens: the survey attempts it created, by
    served call (a customer called twice has two attempt numbers), and when each call
    began to play the apology (the caller hears the engine again from that moment)."""

    def __init__(self) -> None:
        self.attempts: dict[str, set[int]] = defaultdict(set)
        self.apology_at: dict[str, float] = {}

    def __call__(self, msg: Message) -> None:
        event = msg.get("Event")
        if event == "Newchannel":
            attempt = attempt_of(msg.get("Uniqueid", "").split(";")[0])
            if attempt is not None:
                self.attempts[attempt[0]].add(attempt[1])
        elif event == "AGIExecStart" and APOLOGY in msg.get("Command", ""):
            self.apology_at.setdefault(msg.get("Uniqueid", ""), time.time())


@dataclass
class Bench:
    ami: AmiConnection
    redis: Redis
    serving: ServeProcesses
    heard: Heard
    store: RoutingStore = field(init=False)
    log: CallLog = field(init=False)
    index: RecordingIndex = field(init=False)
    jobs: SurveyJobs = field(init=False)

    def __post_init__(self) -> None:
        self.store = RoutingStore(self.redis, PREFIX)
        self.log = CallLog(self.redis, PREFIX, time.time, 60)
        self.index = RecordingIndex(self.redis, PREFIX)
        self.jobs = SurveyJobs(self.redis, PREFIX)

    async def agents(self, agent_ids: list[str], *moves: Move) -> None:
        for agent_id in agent_ids:
            for what in moves:
                await self.store.apply(agent_id, what, time.time())

    async def states(self, agent_ids: list[str]) -> dict[str, AgentState]:
        return {a: await self.store.agent_state(a) for a in agent_ids}

    async def place(self, result: Round) -> None:
        originator = AmiOriginator(self.ami)
        for state, (count, dialled, _agents) in STATES.items():
            for n in range(count):
                number = f"139{result.number:02d}{list(STATES).index(state):02d}{n:04d}"
                # Menu and PIN callers press only after the engine is back.
                keys = {"menu": "0", "pin": "4321#"}.get(state, "")
                caller = SimulatedCaller(caller_number=number, dialled_number=dialled,
                                         keys=keys, delay=16 if keys else 1, stay=120)
                call_id = await place_call(originator, caller)
                result.calls.append(Call(state, call_id, number))

    async def settled(self, result: Round) -> str:
        """Until every call is in its state; what is not, after 25 s."""
        async def every_state() -> list[str]:
            waiting: list[str] = []
            want = {"ringing": {AgentState.RESERVED, AgentState.RINGING},
                    "talking": {AgentState.ON_CALL}, "wrap-up": {AgentState.WRAP_UP}}
            for state, wanted in want.items():
                agents = agents_of(STATES[state][2], STATES[state][0])
                waiting += [f"{state} agent {a}" for a, s in (await self.states(agents)).items()
                            if s not in wanted]
            for call in result.of("survey"):
                if (await self.jobs.state(call.call_id)).get("state") != "placing":
                    waiting.append(f"survey of {call.call_id}")
            for call in result.of("pin"):
                if not any(s["command"] == "RECORDING MUTED"
                           for s in await self.log.steps(call.call_id)):
                    waiting.append(f"PIN of {call.call_id}")
            for call in result.of("menu"):
                if not any(s["command"].startswith("NOTE menu main")
                           for s in await self.log.steps(call.call_id)):
                    waiting.append(f"menu of {call.call_id}")
            for call in result.of("waiting"):
                if (await self.store.call(call.call_id)).get("state") != "waiting":
                    waiting.append(f"line of {call.call_id}")
            return waiting
        missing = await until(every_state, 25, holds=lambda w: not w)
        return "" if missing is None else ", ".join(await every_state())

    async def adopted(self, calls: list[Call], killed: str, killed_at: float) -> None:
        """Each caller in AGI hears the apology from an engine that is not the dead one."""
        pending = list(calls)
        deadline = time.monotonic() + 15
        while pending and time.monotonic() < deadline:
            for call in list(pending):
                heard_at = self.heard.apology_at.get(call.call_id)
                if heard_at is not None and await self.log.owner(call.call_id) != killed:
                    call.adopted_after = heard_at - killed_at
                    pending.remove(call)
            await asyncio.sleep(POLL)
        for call in pending:
            call.lost = "heard no apology within 15 s of the kill"

    async def check(self, result: Round, killed: str, killed_at: float) -> None:
        """Every call ends where it would have without the kill."""
        await self.adopted([c for c in result.calls if c.state in IN_AGI], killed, killed_at)
        wrap_agents = agents_of(STATES["wrap-up"][2], STATES["wrap-up"][0])
        for agent, call in zip(wrap_agents, result.of("wrap-up"), strict=True):
            ends = float((await self.store.agent(agent))["since"]) + WRAP_UP_S
            if await until(partial(self.store.agent_state, agent),
                           max(ends - time.time(), 0) + 1.5,
                           holds=lambda s: s is AgentState.READY) is None:
                call.lost = f"agent {agent}'s wrap-up did not end on time"
        ring_agents = agents_of(STATES["ringing"][2], STATES["ringing"][0])
        if await until(lambda: self.states(ring_agents), 25,
                       holds=lambda s: not BUSY & set(s.values())) is None:
            for call in result.of("ringing"):
                call.lost = call.lost or "its agent was left reserved or ringing"
        for call in result.of("ringing"):
            if await until(partial(self.store.call, call.call_id),
                           10, holds=lambda f: f.get("state") in ("waiting", "offered")) is None:
                call.lost = call.lost or "did not wait again after the unanswered ring"
        for call in result.of("menu") + result.of("pin"):
            if not call.lost and await until(partial(self.store.call, call.call_id),
                                             25, holds=lambda f: f.get("queue")) is None:
                call.lost = "pressed the keys but never joined the line"
        await self.agents(WAIT_AGENTS, Move.GO_READY)
        for call in [c for c in result.calls if c.state in IN_AGI and not c.lost]:
            if await until(partial(self.store.call, call.call_id),
                           60, holds=lambda f: f.get("agent", "").startswith("35")) is None:
                call.lost = "never reached an agent"
        for call in result.of("survey"):
            done = await until(partial(self.jobs.result, call.call_id), 40,
                               holds=lambda r: r.get("grade") == "4")
            if done is None:
                call.lost = f"survey has no grade: {await self.jobs.state(call.call_id)}"
        for call in result.of("talking"):
            if await until(partial(self.store.call, call.call_id), 40,
                           holds=lambda f: f.get("state") == "ended") is None:
                call.lost = "the conversation's record never ended"

    async def wind_up(self, result: Round) -> None:
        """Every channel goes; recordings are filed; nobody is stuck; agents log out."""
        await sandbox.hang_up_everyone(self.ami)
        await sandbox.wait_idle(self.ami, 30.0, 0.5)
        for call in result.calls:
            entry = await until(partial(self.index.entry, call.call_id), 20,
                                holds=lambda e: "sha256" in e)
            if entry is None:
                record = await self.log.record(call.call_id)
                seen = {k: record.get(k) for k in ("owner", "open", "ended", "outcome")}
                call.lost = call.lost or f"recording not filed (call record: {seen})"
            elif json.loads(entry.get("problems", "[]")):
                call.lost = call.lost or f"recording problems: {entry['problems']}"
        states = await until(lambda: self.states(ALL_AGENTS), 20,
                             holds=lambda s: not BUSY & set(s.values()))
        if states is None:
            result.stuck_agents = [a for a, s in (await self.states(ALL_AGENTS)).items()
                                   if s in BUSY]
        for agent in ALL_AGENTS:
            with contextlib.suppress(MoveRefused):  # stuck, counted above, or already out
                await self.store.apply(agent, Move.LOG_OUT, time.time())
        result.double_surveys = sum(
            len(self.heard.attempts[c.call_id]) > 1 for c in result.of("survey"))


async def one_round(bench: Bench, number: int, mode: str,
                    current: tuple[asyncio.subprocess.Process, str]
                    ) -> tuple[Round, tuple[asyncio.subprocess.Process, str]]:
    result = Round(number, mode)
    ready = [a for s, (n, _d, p) in STATES.items() if p for a in agents_of(p, n)]
    await bench.agents(ready, Move.LOG_IN, Move.GO_READY)
    await bench.agents(WAIT_AGENTS, Move.LOG_IN)  # not ready: callers wait
    await bench.place(result)
    unsettled = await bench.settled(result)
    if unsettled:
        print(f"  round {number}: killed before every call was in its state: {unsettled}")
    peer = await bench.serving.start() if mode == "peer" else None
    proc, killed = current
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.time()
    await proc.wait()
    survivor = peer or await bench.serving.start()
    await bench.check(result, killed, killed_at)
    await bench.wind_up(result)
    return result, survivor


def describe(result: Round) -> list[str]:
    lines = [f"kill {result.number} ({result.mode}): "
             + ", ".join(f"{state} {sum(not c.lost for c in result.of(state))}/"
                         f"{len(result.of(state))}" for state in STATES)
             + f"; adoption {fmt(adoptions(result.calls))}; stuck agents "
             f"{len(result.stuck_agents)}; customers called twice {result.double_surveys}"]
    lines += [f"    lost: {c.state} {c.call_id}: {c.lost}" for c in result.calls if c.lost]
    if result.stuck_agents:
        lines.append(f"    stuck: {', '.join(result.stuck_agents)}")
    return lines


def adoptions(calls: list[Call]) -> list[float]:
    return sorted(c.adopted_after for c in calls if c.adopted_after is not None)


def fmt(times: list[float]) -> str:
    if not times:
        return "none"
    return (f"p50 {statistics.median(times):.2f}s, range {times[0]:.2f}-{times[-1]:.2f}s "
            f"over {len(times)} callers")


def summary(rounds: list[Round], tracebacks: int) -> dict[str, object]:
    calls = [c for r in rounds for c in r.calls]
    times = adoptions(calls)
    return {
        "kills": len(rounds),
        "calls": len(calls),
        "recovered": sum(not c.lost for c in calls),
        "lost": sum(bool(c.lost) for c in calls),
        "stuck_agents": sum(len(r.stuck_agents) for r in rounds),
        "double_surveys": sum(r.double_surveys for r in rounds),
        "adopt_p50_s": round(statistics.median(times), 2) if times else None,
        "adopt_max_s": round(times[-1], 2) if times else None,
        "per_state_lost": dict(Counter(c.state for c in calls if c.lost)),
        "tracebacks": tracebacks,
    }


async def run(box: sandbox.SandboxInstance, redis_url: str, kills: int, mode: str,
              logs: Path) -> tuple[list[Round], int]:
    redis = connect(redis_url)
    ami = AmiConnection(box.ami, lambda _event: None)
    heard = Heard()
    ami.add_raw_listener(heard)
    ami.start()
    await ami.wait_up(30)
    serving = ServeProcesses(sandbox.serve_environment(box, redis_url, PREFIX, CONFIG), PREFIX,
                             logs, redis, name="crash")
    bench = Bench(ami, redis, serving, heard)
    rounds: list[Round] = []
    try:
        current = await serving.start()
        for number in range(1, kills + 1):
            kind = mode if mode != "alternate" else ("restart", "peer")[(number - 1) % 2]
            result, current = await one_round(bench, number, kind, current)
            rounds.append(result)
            print("\n".join(describe(result)), flush=True)
    finally:
        await serving.stop()
        await ami.close()
        await redis.aclose()
    return rounds, serving.tracebacks()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--mode", choices=("alternate", "restart", "peer"),
                        default="alternate")
    parser.add_argument("--instance", default="bench-crash", help="sandbox instance name")
    parser.add_argument("--logs", type=Path,
                        help="keep the engines' logs in this directory (default: dropped)")
    parser.add_argument("--rtp-start", type=int, default=52000 + 2 * (os.getpid() % 3000))
    args = parser.parse_args()
    began = time.monotonic()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    with sandbox.owned(args.instance, args.rtp_start) as box, LocalRedis() as server, \
            tempfile.TemporaryDirectory(prefix="bench-crash-") as scratch:
        logs = args.logs or scratch
        print(f"sandbox '{box.name}' up (AMI {box.ami.port}), redis on {server.port}; "
              f"{args.kills} kills, {sum(n for n, _d, _p in STATES.values())} calls each, "
              f"mode {args.mode}", flush=True)
        rounds, tracebacks = asyncio.run(run(box, server.url, args.kills, args.mode,
                                             Path(logs)))
    print(f"done in {time.monotonic() - began:.0f}s")
    print(json.dumps(summary(rounds, tracebacks)))


if __name__ == "__main__":
    main()

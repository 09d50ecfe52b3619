"""Connect latency against Asterisk's own Queue() and a bare AMI "floor" client.

    python bench/vs_app_queue.py [--rate 4] [--seconds 40] [--instance bench-vsq]

The same load on the same sandbox, run three ways one after the other: simulated
callers (Local channels into the `sim-caller` context, sending audio like a phone) at a
fixed rate, 20 simulated agents (Local/<id>@bench-agent: ring 0.2 s, answer, talk 3 s).

- app_queue: the caller is answered and put in Asterisk's `Queue(bench-vsq)`, a queue of
  the same 20 agents as static members (deploy/asterisk/queues.conf).
- floor: the caller enters AsyncAGI (`hotline-in`), and a minimal AMI client answers its
  `AsyncAGIStart` with one `Redirect` to `bench-floor-connect`, extension = a free agent
  (round robin over the agents it knows to be free), which dials that agent. No routing
  logic, no Redis: the fastest any external router can be.
- engine: a real Engine (own redis-server) serving one queue of the 20 agents; callers
  dial a legacy number whose start node is that queue. The engine connects them as it
  always does: `Setvar`s and an AMI `Redirect` to `hotline-connect`.

Latency = the caller joining the queue -> the agent's phone ringing (`DialBegin` of the
caller's channel). "Joined" is `QueueCallerJoin` for app_queue; for the floor, which has
no queue, the call's `AsyncAGIStart`; for the engine, the caller entering its queue in
Redis (after the engine took the call: claim, call record, VIP lookup, menu), noted on
the same host clock Asterisk stamps its events with. The engine is also timed from its
`AsyncAGIStart`, which adds that call setup (reported beside). DialBegin and the other
ends are Asterisk's own event times (manager.conf `timestampevents`, switched on for
this instance only), read on a dedicated AMI connection, so a busy reader does not bend
the figures. app_queue's `AgentCalled` is shown too.

A call is lost when its caller never reached an agent (no answered dial), whatever the
reason: not placed, never seen, never rung, or the ring not answered.

For the engine, the time is also split into its steps, from its own AMI connection and
its routing store (wrapped for this run only): where the engine's extra time goes.

It starts its own sandbox instance and redis-server on free ports and stops both at the
end. Human-readable lines first; the last line is JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import logging
import math
import os
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis.asyncio import Redis

from agents.state import Move
from config.loader import check_text
from hotline.calls.express import ExpressClaim
from hotline.calls.flow import CallFlow
from hotline.dev import sandbox
from hotline.dev.configs import OPEN_ALL_WEEK
from hotline.dev.local_redis import LocalRedis
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from pbx.ami import AmiConnection, AmiError, AmiSettings
from pbx.ami_codec import ActionFields, Message
from pbx.originate import AmiOriginator
from pbx.ports import Call
from routing.decide import WaitingCall
from routing.store import Joined, Reserved

T = TypeVar("T")
AGENTS = [str(1001 + i) for i in range(20)]
AGENT_CONTEXT = "bench-agent"  # deploy/asterisk/extensions-bench.conf
APP_QUEUE_IN = "bench-queue-in"
FLOOR_CONNECT = "bench-floor-connect"
HOTLINE_IN = "hotline-in"
ENGINE_NUMBER = "180"  # a legacy number straight into the engine's queue
APP_QUEUE_NUMBER = "5000"  # any number of two digits or more: `_X.` in bench-queue-in
# The caller outlasts the agent's 3 s of talk: the agent ends every served call.
CALLER_STAYS = 15.0
# Events the measuring connection asks for (a session filter): the rest of the stream
# (channel states, bridges, ...) would only cost it time.
TRACKED = ("AsyncAGIStart", "QueueCallerJoin", "AgentCalled", "DialBegin", "DialEnd",
           "Hangup", "OriginateResponse")
TARGET_RATIO_VS_FLOOR = 1.25
TARGET_P99_MS = 10.0

log = logging.getLogger("bench.vs_app_queue")


# --- figures -----------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Nearest rank: a value that was measured, never an interpolation between two."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(q * len(ordered)) - 1, 0)]


def ms(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f} ms"


def spread(values: list[float]) -> str:
    return f"p50 {ms(percentile(values, 0.5))}, p99 {ms(percentile(values, 0.99))}"


def rounded(value: float, digits: int = 3) -> float | None:
    return None if math.isnan(value) else round(value, digits)


# --- what Asterisk says about each call --------------------------------------------------

@dataclass
class Timeline:
    """One caller's moments, in Asterisk's event time (epoch seconds)."""

    joined: float | None = None
    agent_called: float | None = None
    dial_begin: float | None = None
    answered: bool = False
    hung_up: bool = False
    not_placed: bool = False


class CallWatch:
    """The calls of one way, filled from the measuring connection's events."""

    def __init__(self, join_event: str) -> None:
        self.join_event = join_event
        self.calls: dict[str, Timeline] = {}
        self.unstamped = 0  # events without Asterisk's Timestamp (receipt time used)
        self.changed = asyncio.Event()

    def expect(self, call_id: str) -> None:
        self.calls[call_id] = Timeline()

    def __call__(self, msg: Message) -> None:
        event = msg.get("Event", "")
        if event == "OriginateResponse":
            self._originated(msg)
            return
        call = self.calls.get(msg.get("Uniqueid", ""))
        if call is None:
            return
        at = self._time(msg)
        if event == self.join_event and call.joined is None:
            call.joined = at
        elif event == "AgentCalled" and call.agent_called is None:
            call.agent_called = at
        elif event == "DialBegin" and call.dial_begin is None:
            call.dial_begin = at
        elif event == "DialEnd" and msg.get("DialStatus") == "ANSWER":
            call.answered = True
        elif event == "Hangup":
            call.hung_up = True
            self.changed.set()

    def _originated(self, msg: Message) -> None:
        # The originated half is "phone-<call id>"; a failure means no caller at all.
        call = self.calls.get(msg.get("Uniqueid", "").removeprefix("phone-"))
        if call is not None and msg.get("Response") == "Failure":
            call.not_placed = True
            self.changed.set()

    def _time(self, msg: Message) -> float:
        stamp = msg.get("Timestamp")
        if stamp is None:
            self.unstamped += 1
            return time.time()
        return float(stamp)

    def done(self) -> bool:
        return all(c.hung_up or c.not_placed for c in self.calls.values())


@dataclass
class WayResult:
    name: str
    joined_by: str
    placed: int = 0
    measured: int = 0
    to_dial: list[float] = field(default_factory=list)  # ms, joined -> DialBegin
    to_agent_called: list[float] = field(default_factory=list)  # ms, app_queue only
    # ms, the engine only: the caller in its queue -> DialBegin
    from_queue_join: list[float] = field(default_factory=list)
    not_placed: int = 0
    never_joined: int = 0
    never_rung: int = 0
    not_answered: int = 0
    unstamped: int = 0
    wall: float = 0.0
    notes: list[str] = field(default_factory=list)
    redis_sent: float = math.nan  # the engine only: commands sent per call
    redis_run: float = math.nan  # and run (INFO commandstats, inside scripts too)

    @property
    def lost(self) -> int:
        return self.not_placed + self.never_joined + self.never_rung + self.not_answered

    @property
    def p50(self) -> float:
        return percentile(self.to_dial, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.to_dial, 0.99)


def tally(name: str, watch: CallWatch, warmup_ids: set[str]) -> WayResult:
    result = WayResult(name, watch.join_event, placed=len(watch.calls),
                       unstamped=watch.unstamped)
    for call_id, call in watch.calls.items():
        if call.not_placed:
            result.not_placed += 1
        elif call.joined is None:
            result.never_joined += 1
        elif call.dial_begin is None:
            result.never_rung += 1
        elif not call.answered:
            result.not_answered += 1
        if call_id in warmup_ids or call.joined is None:
            continue
        if call.dial_begin is not None:
            result.to_dial.append((call.dial_begin - call.joined) * 1000)
        if call.agent_called is not None:
            result.to_agent_called.append((call.agent_called - call.joined) * 1000)
    result.measured = len(result.to_dial)
    return result


# --- placing the load --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Load:
    rate: float
    seconds: float
    warmup: float  # the first seconds' calls are placed but not in the percentiles

    @property
    def calls(self) -> int:
        return round(self.rate * self.seconds)


async def place(originator: AmiOriginator, watch: CallWatch, channel: str,
                call_id: str, index: int) -> None:
    """One caller: the originated half sends audio (sim-caller), the other half is the
    caller the way under test serves; its unique id is our call id."""
    watch.expect(call_id)
    try:
        await originator.originate(
            channel, context="sim-caller", exten="keys",
            caller_id=f'"Bench" <139{index:08d}>',
            variables={"SIM_KEYS": "", "SIM_DELAY": "0", "SIM_STAY": f"{CALLER_STAYS:g}"},
            channel_id=f"phone-{call_id}", other_channel_id=call_id)
    except AmiError as exc:
        log.warning("call %s not placed: %s", call_id, exc)
        watch.calls[call_id].not_placed = True


async def drive(reader: AmiConnection, watch: CallWatch, channel: str, load: Load,
                short: str) -> set[str]:
    """Callers on a fixed schedule (not in bursts), then until every call has ended.
    Returns the warm-up calls' ids."""
    originator = AmiOriginator(reader)
    loop = asyncio.get_running_loop()
    started = loop.time()
    warmup: set[str] = set()
    tasks: set[asyncio.Task[None]] = set()
    run = uuid.uuid4().hex[:6]
    for index in range(load.calls):
        # A late schedule (a busy machine) places the next call at once, no catching up
        # in a burst beyond that.
        await asyncio.sleep(max(started + index / load.rate - loop.time(), 0.0))
        call_id = f"vsq-{short}-{run}-{index:04d}"
        if index / load.rate < load.warmup:
            warmup.add(call_id)
        task = asyncio.create_task(place(originator, watch, channel, call_id, index))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks)
    deadline = loop.time() + CALLER_STAYS + 15.0
    while not watch.done() and loop.time() < deadline:
        watch.changed.clear()
        try:
            async with asyncio.timeout(1.0):
                await watch.changed.wait()
        except TimeoutError:
            pass
    return warmup


async def only_events(ami: AmiConnection, events: tuple[str, ...]) -> bool:
    """Ask Asterisk to send this session only `events` (Hangup lets HangupRequest
    through too: the filter is a regular expression; the rest is ignored here)."""
    try:
        await ami.send_action({"Action": "Filter", "Operation": "Add",
                               "Filter": f"Event: ({'|'.join(events)})"})
    except AmiError as exc:
        log.warning("event filter refused (%s): reading every event", exc)
        return False
    return True


# --- the floor: one Redirect per call, nothing else --------------------------------------

class Floor:
    """The least an external router must do: see the call, name a free agent, send
    one Redirect. Free agents are tracked locally, round robin; no Redis, no rules."""

    def __init__(self, settings: AmiSettings, agents: list[str]) -> None:
        self.ami = AmiConnection(settings, lambda _event: None)
        self.ami.add_raw_listener(self._message)
        self.free: deque[str] = deque(agents)
        self.waiting: deque[tuple[str, str]] = deque()  # (unique id, channel), no agent yet
        self.serving: dict[str, str] = {}  # caller's unique id -> agent
        self.received: dict[str, float] = {}  # unique id -> AsyncAGIStart received
        self.sent: dict[str, float] = {}  # unique id -> Redirect written
        self.failed = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self.ami.start()
        await self.ami.wait_up(10)
        await only_events(self.ami, ("AsyncAGIStart", "Hangup"))

    async def close(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        await self.ami.close()

    def _message(self, msg: Message) -> None:
        event = msg.get("Event")
        unique_id = msg.get("Uniqueid", "")
        if event == "AsyncAGIStart" and msg.get("Context") == HOTLINE_IN:
            self.received[unique_id] = time.time()
            self.waiting.append((unique_id, msg.get("Channel", "")))
            self._assign()
        elif event == "Hangup":
            agent = self.serving.pop(unique_id, None)
            if agent is not None:
                self.free.append(agent)
                self._assign()

    def _assign(self) -> None:
        while self.waiting and self.free:
            unique_id, channel = self.waiting.popleft()
            agent = self.free.popleft()
            self.serving[unique_id] = agent
            task = asyncio.ensure_future(self._redirect(unique_id, channel, agent))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _redirect(self, unique_id: str, channel: str, agent: str) -> None:
        self.sent[unique_id] = time.time()
        try:
            await self.ami.send_action({"Action": "Redirect", "Channel": channel,
                                        "Context": FLOOR_CONNECT, "Exten": agent,
                                        "Priority": 1})
        except AmiError as exc:
            self.failed += 1
            log.warning("floor: redirect of %s failed: %s", channel, exc)


# --- the engine, and where its time goes -------------------------------------------------

@dataclass
class EngineSteps:
    """Moments of each call inside the engine (time.time(), the clock Asterisk stamps
    its events with), keyed by the call's unique id."""

    received: dict[str, float] = field(default_factory=dict)  # AsyncAGIStart on its AMI
    claimed: dict[str, float] = field(default_factory=dict)  # first Setvar: claim+record done
    joined: dict[str, float] = field(default_factory=dict)  # in the line (Redis) and woken
    reserved: dict[str, float] = field(default_factory=dict)  # agent reserved (Lua)
    redirected: dict[str, float] = field(default_factory=dict)  # Redirect written
    rounds: list[float] = field(default_factory=list)  # matching rounds' starts
    actions_before_redirect: dict[str, Counter[str]] = field(default_factory=dict)
    express: set[str] = field(default_factory=set)  # reserved by the claim's script
    channel_call: dict[str, str] = field(default_factory=dict)


def watch_engine(engine: Engine) -> EngineSteps:
    """Wrap (this run only) the engine's AMI sender, the routing store's join and
    reserve, and its matching round, noting when each step of a call happens. The
    wrappers note a time and call through: microseconds, against milliseconds."""
    steps = EngineSteps()

    # The arrival as the engine's sessions hear it, not a raw AMI listener: with one, the
    # engine's decoder would parse every event it skips unread in production.
    arrived = engine.calls.arrived

    def noted_arrived(call: Call) -> None:
        # The first arrival: a caller back from a ring comes into AGI again later.
        steps.received.setdefault(call.call_id, time.time())
        steps.channel_call.setdefault(call.channel, call.call_id)
        arrived(call)
    send_action = engine.ami.send_action

    start_action = engine.ami.start_action

    async def noted_send_action(fields: ActionFields, **kwargs: Any) -> Any:
        note_action(steps, fields)
        return await send_action(fields, **kwargs)

    def noted_start_action(fields: ActionFields, **kwargs: Any) -> Any:
        note_action(steps, fields)
        return start_action(fields, **kwargs)

    join, reserve_pairs = engine.routing.join, engine.routing.reserve_pairs

    async def noted_join(call: WaitingCall, *args: Any, **kwargs: Any) -> Joined:
        outcome = await join(call, *args, **kwargs)
        steps.joined.setdefault(call.call_id, time.time())
        if outcome.reserved is Reserved.YES:  # the express lane: joined and reserved at once
            steps.reserved[call.call_id] = steps.joined[call.call_id]
        return outcome

    async def noted_reserve_pairs(pairs: Sequence[tuple[str, WaitingCall]],
                                  now: float) -> list[Reserved]:
        outcomes = await reserve_pairs(pairs, now)
        done = time.time()
        for (_, call), outcome in zip(pairs, outcomes, strict=True):
            if outcome is Reserved.YES:
                steps.reserved[call.call_id] = done
        return outcomes

    lane = engine.menu.express if isinstance(engine.menu, CallFlow) else None
    claim_and_join = lane.claim_and_join if lane is not None else None

    async def noted_claim_and_join(call: Call, *args: Any, **kwargs: Any) -> ExpressClaim:
        assert claim_and_join is not None
        got = await claim_and_join(call, *args, **kwargs)
        if got.reserved:
            steps.joined[call.call_id] = steps.reserved[call.call_id] = time.time()
            steps.express.add(call.call_id)
        return got

    match_round = engine.queues.match_round

    async def noted_match_round() -> int:
        steps.rounds.append(time.time())
        return await match_round()

    # Instance attributes shadow the methods; every caller looks them up on the instance.
    setattr(engine.calls, "arrived", noted_arrived)  # noqa: B010
    setattr(engine.ami, "send_action", noted_send_action)  # noqa: B010
    setattr(engine.ami, "start_action", noted_start_action)  # noqa: B010
    setattr(engine.routing, "join", noted_join)  # noqa: B010
    setattr(engine.routing, "reserve_pairs", noted_reserve_pairs)  # noqa: B010
    setattr(engine.queues, "match_round", noted_match_round)  # noqa: B010
    if lane is not None:
        setattr(lane, "claim_and_join", noted_claim_and_join)  # noqa: B010
    return steps


def note_action(steps: EngineSteps, fields: ActionFields) -> None:
    call_id = steps.channel_call.get(str(fields.get("Channel", "")))
    if call_id is None:
        return
    now, action, variable = time.time(), fields.get("Action"), fields.get("Variable")
    if call_id not in steps.redirected:
        steps.actions_before_redirect.setdefault(call_id, Counter())[str(action)] += 1
    if action == "Setvar" and variable == "HOTLINE_CALL_ID":
        steps.claimed.setdefault(call_id, now)
    elif action == "Redirect" and fields.get("Context") == "hotline-connect":
        steps.redirected.setdefault(call_id, now)


def engine_config() -> str:
    """One queue, the 20 agents, no wrap-up (app_queue's members have none either), no
    recording (the other ways record nothing), no survey sample."""
    agents = "".join(
        f'  "{a}":\n    name: Agent {a}\n    endpoint: Local/{a}@{AGENT_CONTEXT}\n'
        f"    skills: {{billing: 7}}\n    wrap_up: 0s\n" for a in AGENTS)
    return f"""\
numbers:
  unified: "10000"
  start: agent
  legacy:
    "{ENGINE_NUMBER}": agent
{OPEN_ALL_WEEK}languages:
  default: zh
  offered: [zh]
prompts:
  bye:
    text: {{zh: 再见。}}
menus:
  agent:
    kind: queue
    queue: billing
  survey:
    kind: hangup
    prompt: bye
skills:
  billing: {{name: Billing}}
agents:
{agents}queues:
  billing:
    name: Billing
    skills: {{billing: 6}}
vip:
  tiers:
    normal: {{priority: 0, max_wait: 5m}}
recording:
  enabled: false
sampling:
  rate: 0
  survey: survey
"""


async def agents_ready(engine: Engine) -> None:
    """The agents log in and go ready, as they would from their phones."""
    now = time.time()
    for agent_id in AGENTS:
        await engine.routing.apply(agent_id, Move.LOG_IN, now)
        await engine.routing.apply(agent_id, Move.GO_READY, now)


def between(start: dict[str, float], end: dict[str, float], ids: set[str]) -> list[float]:
    return [(end[c] - start[c]) * 1000 for c in ids if c in start and c in end]


def round_starts(steps: EngineSteps) -> dict[str, float]:
    """For each reserved call, the start of the matching round that reserved it."""
    rounds = sorted(steps.rounds)
    starts: dict[str, float] = {}
    for call_id, at in steps.reserved.items():
        index = bisect.bisect_right(rounds, at) - 1
        if index >= 0:
            starts[call_id] = rounds[index]
    return starts


def step_lines(title: str, stages: list[tuple[str, list[float]]]) -> list[str]:
    lines = [title]
    lines += [f"  {name:<58} {spread(values)}" for name, values in stages]
    return lines


def engine_breakdown(steps: EngineSteps, watch: CallWatch, ids: set[str]) -> list[str]:
    joined = {c: t.joined for c, t in watch.calls.items() if t.joined is not None}
    dialled = {c: t.dial_begin for c, t in watch.calls.items() if t.dial_begin is not None}
    rounds = round_starts(steps)
    # The AMI actions each call needed up to its Redirect, as "Setvar 7, AGI 1, ...":
    # the most common mix, and how many calls had it.
    mixes = Counter(", ".join(f"{name} {count}" for name, count in sorted(
        steps.actions_before_redirect[c].items())) for c in ids
        if c in steps.actions_before_redirect)
    express = ids & steps.express
    if express:  # the express lane at the claim: claimed, joined and reserved at once
        lines = step_lines(
            f"where the engine's time goes, express lane at the claim ({len(express)} of "
            f"{len(ids)} calls; p50, p99 of each step):", [
                ("AsyncAGIStart (Asterisk) -> the engine reads it",
                 between(joined, steps.received, express)),
                ("-> claimed, record opened, tier read, joined, agent reserved (1 script)",
                 between(steps.received, steps.reserved, express)),
                ("-> 2 Setvar written (the call's id and name)",
                 between(steps.reserved, steps.claimed, express)),
                ("-> Redirect written", between(steps.claimed, steps.redirected, express)),
                ("-> DialBegin (Asterisk)", between(steps.redirected, dialled, express))])
        ids = ids - express
        if not ids:
            return lines + mix_line(mixes)
    else:
        lines = []
    stages = [
        ("AsyncAGIStart (Asterisk) -> the engine reads it", between(joined, steps.received, ids)),
        ("-> call claimed, record opened (1 script)",
         between(steps.received, steps.claimed, ids)),
        ("-> in the line: 2 Setvar; returned? and tier lookup; join",
         between(steps.claimed, steps.joined, ids)),
        ("-> the matching round that reserves it starts", between(steps.joined, rounds, ids)),
        ("-> agent reserved (match reads + reservation script)",
         between(rounds, steps.reserved, ids)),
        ("-> Redirect written (first, in the same step as the reservation)",
         between(steps.reserved, steps.redirected, ids)),
        ("-> DialBegin (Asterisk)", between(steps.redirected, dialled, ids)),
    ]
    lines += step_lines(f"where the engine's time goes, the other {len(ids)} calls (p50, "
                        "p99 of each step):" if express else
                        "where the engine's time goes (p50, p99 of each step):", stages)
    return lines + mix_line(mixes)


def mix_line(mixes: Counter[str]) -> list[str]:
    if not mixes:
        return []
    mix, count = mixes.most_common(1)[0]
    return [f"  AMI actions per call up to its Redirect (included): {mix} "
            f"({count} of {sum(mixes.values())} calls)"]


def floor_breakdown(floor: Floor, watch: CallWatch, ids: set[str]) -> list[str]:
    joined = {c: t.joined for c, t in watch.calls.items() if t.joined is not None}
    dialled = {c: t.dial_begin for c, t in watch.calls.items() if t.dial_begin is not None}
    return step_lines("the floor's steps (p50, p99):", [
        ("AsyncAGIStart (Asterisk) -> the client reads it", between(joined, floor.received,
                                                                     ids)),
        ("-> Redirect written", between(floor.received, floor.sent, ids)),
        ("-> DialBegin (Asterisk)", between(floor.sent, dialled, ids)),
    ])


async def redis_commands(redis: Redis) -> Counter[str]:
    """Commands Redis has run so far, by name (INFO commandstats)."""
    stats = await redis.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(value["calls"])
                    for name, value in stats.items() if isinstance(value, dict)})


class SentCommands:
    """The commands the engine's client sends, by name (this run only): a script call
    is one, however many commands Redis runs inside it; each command of a pipeline is
    one, MULTI and EXEC included. What the engine costs Redis in requests, beside what
    INFO commandstats counts (every command run, inside scripts too)."""

    def __init__(self, redis: Redis) -> None:
        self.counts: Counter[str] = Counter()
        execute, pipeline = redis.execute_command, redis.pipeline

        async def counted(*args: Any, **options: Any) -> Any:
            self.counts[str(args[0]).lower()] += 1
            return await execute(*args, **options)

        def counted_pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = pipeline(*args, **kwargs)
            run = pipe.execute

            async def execute_counted(*a: Any, **k: Any) -> Any:
                for command, _options in pipe.command_stack:
                    self.counts[str(command[0]).lower()] += 1
                if pipe.is_transaction:
                    self.counts.update(("multi", "exec"))
                return await run(*a, **k)

            setattr(pipe, "execute", execute_counted)  # noqa: B010
            return pipe

        setattr(redis, "execute_command", counted)  # noqa: B010
        setattr(redis, "pipeline", counted_pipeline)  # noqa: B010


def per_call(commands: Counter[str], calls: int) -> str:
    total = sum(commands.values())
    top = ", ".join(f"{name} {count / calls:.1f}" for name, count in commands.most_common(6))
    return f"{total / calls:.1f} ({top})"


# --- the three ways ----------------------------------------------------------------------

@dataclass
class Bench:
    reader: AmiConnection
    load: Load
    box: sandbox.SandboxInstance
    redis_url: str
    watch: CallWatch | None = None
    details: list[str] = field(default_factory=list)

    def listen(self, msg: Message) -> None:
        if self.watch is not None:
            self.watch(msg)

    async def run(self, name: str, short: str, join_event: str, channel: str
                  ) -> tuple[WayResult, CallWatch, set[str]]:
        await sandbox.wait_idle(self.reader, 30.0)
        watch = self.watch = CallWatch(join_event)
        began = time.monotonic()
        warmup = await drive(self.reader, watch, channel, self.load, short)
        self.watch = None
        result = tally(name, watch, warmup)
        result.wall = time.monotonic() - began
        measured = {c for c, t in watch.calls.items() if c not in warmup and t.joined}
        return result, watch, measured

    async def app_queue(self) -> WayResult:
        result, _, _ = await self.run("app_queue", "q", "QueueCallerJoin",
                                      f"Local/{APP_QUEUE_NUMBER}@{APP_QUEUE_IN}")
        return result

    async def floor(self) -> WayResult:
        floor = Floor(self.box.ami, AGENTS)
        await floor.start()
        try:
            result, watch, ids = await self.run("floor", "f", "AsyncAGIStart",
                                                f"Local/{APP_QUEUE_NUMBER}@{HOTLINE_IN}")
        finally:
            await floor.close()
        if floor.failed:
            result.notes.append(f"{floor.failed} Redirect(s) failed")
        self.details += floor_breakdown(floor, watch, ids)
        return result

    async def engine(self) -> WayResult:
        redis = connect(self.redis_url)
        engine = Engine(self.engine_settings(), redis, watch_config=False)
        steps = watch_engine(engine)
        try:
            await engine.start()  # renders its one prompt, outside the measurement
            await agents_ready(engine)
            commands_before = await redis_commands(redis)
            sent = SentCommands(redis)
            result, watch, ids = await self.run("engine", "e", "AsyncAGIStart",
                                                f"Local/{ENGINE_NUMBER}@{HOTLINE_IN}")
            commands = await redis_commands(redis) - commands_before
            sent.counts["info"] -= 1  # the read of commandstats just above
            sent.counts += Counter()  # drops what is left at zero
        finally:
            await engine.stop()
            await redis.aclose()
        self.details += engine_breakdown(steps, watch, ids)
        result.from_queue_join = [(rang - steps.joined[c]) * 1000 for c in ids
                                  if c in steps.joined
                                  and (rang := watch.calls[c].dial_begin) is not None]
        calls = max(result.placed, 1)
        self.details.append(f"  Redis commands sent per call, whole call and idle matcher "
                            f"ticks included: {per_call(sent.counts, calls)}")
        self.details.append(f"  Redis commands run per call (INFO commandstats, inside "
                            f"scripts too): {per_call(commands, calls)}")
        result.redis_sent = sum(sent.counts.values()) / calls
        result.redis_run = sum(commands.values()) / calls
        return result

    def engine_settings(self) -> Settings:
        state = self.box.state
        directory = Path(str(state["instance_dir"])) / "bench-vsq"
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "hotline.yaml"
        path.write_text(engine_config())
        return replace(Settings(ami=self.box.ami, redis_url=self.redis_url),
                       key_prefix="bench-vsq:", config_path=path, shutdown_grace=2.0,
                       prompts_dir=Path(str(state["sounds_dir"])),
                       prompts_dir_asterisk=str(state["sounds_dir_in_chroot"]),
                       recordings_dir=Path(str(state["recordings_dir"])),
                       recordings_dir_asterisk=str(state["recordings_dir_in_chroot"]),
                       secret_key=os.urandom(32))


WAYS: dict[str, Callable[[Bench], Awaitable[WayResult]]] = {
    "app_queue": Bench.app_queue, "floor": Bench.floor, "engine": Bench.engine}


async def run_all(box: sandbox.SandboxInstance, redis_url: str, load: Load
                  ) -> tuple[dict[str, WayResult], list[str]]:
    reader = AmiConnection(box.ami, lambda _event: None)
    bench = Bench(reader, load, box, redis_url)
    reader.add_raw_listener(bench.listen)
    reader.start()
    results: dict[str, WayResult] = {}
    try:
        await reader.wait_up(10)
        await only_events(reader, TRACKED)
        for name, way in WAYS.items():
            results[name] = await way(bench)
            print(describe(results[name]), flush=True)
    finally:
        await reader.close()
    return results, bench.details


def describe(result: WayResult) -> str:
    line = (f"{result.name:<9} {result.placed} calls, {result.measured} measured: "
            f"{result.joined_by}->DialBegin {spread(result.to_dial)}")
    if result.to_agent_called:
        line += f"; {result.joined_by}->AgentCalled {spread(result.to_agent_called)}"
    line += (f"; lost {result.lost} (not placed {result.not_placed}, never joined "
             f"{result.never_joined}, never rung {result.never_rung}, not answered "
             f"{result.not_answered}); {result.wall:.0f}s")
    if result.unstamped:
        line += f"; {result.unstamped} events without Asterisk's timestamp"
    return line + "".join(f"; {note}" for note in result.notes)


def verdict(results: dict[str, WayResult]) -> tuple[list[str], dict[str, object]]:
    engine, floor, queue = results["engine"], results["floor"], results["app_queue"]
    p50 = percentile(engine.from_queue_join, 0.5)
    p99 = percentile(engine.from_queue_join, 0.99)
    vs_floor = p50 / floor.p50 if floor.p50 else math.nan
    vs_queue = p50 / queue.p50 if queue.p50 else math.nan
    agi_vs_floor = engine.p50 / floor.p50 if floor.p50 else math.nan
    lines = [
        f"engine, queue join->DialBegin: p50 {ms(p50)}, p99 {ms(p99)} "
        f"({len(engine.from_queue_join)} calls); from AsyncAGIStart, with the call setup: "
        f"p50 {ms(engine.p50)}, p99 {ms(engine.p99)}",
        f"engine p50 {ms(p50)} = {vs_floor:.2f}x the floor's {ms(floor.p50)} "
        f"(target <= {TARGET_RATIO_VS_FLOOR}x: "
        f"{'met' if vs_floor <= TARGET_RATIO_VS_FLOOR else 'NOT met'}); "
        f"{vs_queue:.1f}x app_queue's {ms(queue.p50)}",
        f"from AsyncAGIStart: engine p50 {ms(engine.p50)} = {agi_vs_floor:.2f}x the floor "
        f"(target <= 2x: {'met' if agi_vs_floor <= 2 else 'NOT met'}); Redis commands per "
        f"call {engine.redis_sent:.1f} sent (target <= 40: "
        f"{'met' if engine.redis_sent <= 40 else 'NOT met'}), {engine.redis_run:.1f} run",
        f"engine p99 {ms(p99)} (target < {TARGET_P99_MS:g} ms: "
        f"{'met' if p99 < TARGET_P99_MS else 'NOT met'}); engine lost "
        f"{engine.lost} call(s) (target 0: {'met' if engine.lost == 0 else 'NOT met'})",
    ]
    summary: dict[str, object] = {
        "engine_p50_ms": rounded(p50), "engine_p99_ms": rounded(p99),
        "floor_p50_ms": rounded(floor.p50), "app_queue_p50_ms": rounded(queue.p50),
        "ratio_p50_vs_floor": rounded(vs_floor, 2), "ratio_p50_vs_app_queue": rounded(vs_queue, 2),
        "lost_calls": engine.lost,
        "ratio_agi_start_vs_floor": rounded(agi_vs_floor, 2),
        "redis_commands_per_call": rounded(engine.redis_sent, 1),
        "redis_commands_run_per_call": rounded(engine.redis_run, 1),
        "engine_from_agi_start_p50_ms": rounded(engine.p50),
        "engine_from_agi_start_p99_ms": rounded(engine.p99),
        "floor_p99_ms": rounded(floor.p99), "app_queue_p99_ms": rounded(queue.p99),
        "app_queue_agent_called_p50_ms": rounded(percentile(queue.to_agent_called, 0.5)),
        "app_queue_agent_called_p99_ms": rounded(percentile(queue.to_agent_called, 0.99)),
        "lost_calls_floor": floor.lost, "lost_calls_app_queue": queue.lost,
        "calls_per_way": engine.placed, "measured_per_way": {n: r.measured for n, r in
                                                             results.items()},
    }
    return lines, summary


# --- the sandbox and redis of this run ---------------------------------------------------

def stamp_events(box: sandbox.SandboxInstance) -> None:
    """Asterisk's own time on every event (`timestampevents`), for this instance only:
    its rendered manager.conf gets the option and AMI reloads. The events' times are
    then those of Asterisk, whatever the reading process is doing."""
    path = Path(str(box.state["instance_dir"])) / "etc" / "manager.conf"
    text = path.read_text()
    if "timestampevents" not in text:
        path.write_text(text.replace("[general]\n", "[general]\ntimestampevents = yes\n", 1))
    box.cli("manager reload")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=4.0, help="calls per second")
    parser.add_argument("--seconds", type=float, default=40.0,
                        help="how long each way places calls")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="the first seconds' calls are not in the percentiles")
    parser.add_argument("--instance", default="bench-vsq", help="sandbox instance name")
    parser.add_argument("--rtp-start", type=int, default=52000 + 2 * (os.getpid() % 3000))
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio",
                        help="the event loop every way runs on (the engine's included)")
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= args.warmup:
        parser.error("--rate must be positive and --seconds longer than --warmup")
    return args


def run_loop(loop: str, work: Coroutine[Any, Any, T]) -> T:
    """`work` on the asyncio loop, or on uvloop's (measured as an option: the engine
    takes it only where it wins)."""
    if loop == "uvloop":
        import uvloop  # an option, not a dependency

        return uvloop.run(work)
    return asyncio.run(work)


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _, problems = check_text(engine_config(), "engine config")
    errors = [str(p) for p in problems if p.severity == "error"]
    if errors:
        raise SystemExit("the engine's bench config is invalid:\n" + "\n".join(errors))
    load = Load(args.rate, args.seconds, args.warmup)
    began = time.monotonic()
    with sandbox.owned(args.instance, args.rtp_start) as box, LocalRedis() as server:
        stamp_events(box)
        print(f"sandbox '{box.name}' up (AMI {box.ami.port}), redis on {server.port}; "
              f"{len(AGENTS)} agents Local/<id>@{AGENT_CONTEXT} (ring 0.2 s, talk 3 s); "
              f"{args.rate:g} calls/s for {args.seconds:g}s per way, the first "
              f"{args.warmup:g}s of calls not measured", flush=True)
        print("joined = QueueCallerJoin for app_queue, AsyncAGIStart for the floor and the "
              "engine (the first an external router can know of the call), so engine and "
              "floor compare like for like; times are Asterisk's event timestamps",
              flush=True)
        results, details = run_loop(args.loop, run_all(box, server.url, load))
    lines, summary = verdict(results)
    print("\n".join(details))
    print("\n".join(lines))
    print(f"done in {time.monotonic() - began:.0f}s")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""`hotline serve` killed with SIGKILL while calls are in every state: the restarted
engine (or a peer that was running all along) takes every call over, and no caller,
agent or recording is left behind.

The engine under test is a real process on the sandbox's Asterisk and a real Redis;
the test's own engine only places the calls and watches the AMI events.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import Move
from hotline.calls.records import CallLog
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from pbx.ami_codec import Message
from quality.recording_index import RecordingIndex
from quality.survey_jobs import SurveyJobs
from routing.store import RoutingStore
from tests.conftest import EventTap
from tests.integration.helpers import press_keys, until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

ADOPTION_S = 5.0  # the promise: every call taken over within 5 s
KEYS = {"menu": "0", "pin": "4321#"}  # what the menu callers press once asked again

HOTLINE = """\
numbers:
  unified: "10000"
  start: main
  legacy:
    "180": to_talk
    "181": to_ring
    "183": to_wrap
    "184": to_wait
    "185": pin
    "186": to_survey
calendar:
  hours:
    mon: [00:00-23:59]
    tue: [00:00-23:59]
    wed: [00:00-23:59]
    thu: [00:00-23:59]
    fri: [00:00-23:59]
    sat: [00:00-23:59]
    sun: [00:00-23:59]
languages:
  default: zh
  offered: [zh]
prompts:
  menu:
    text: {zh: 按0人工服务。}
  pin:
    text: {zh: 请输入密码。}
  grade:
    text: {zh: 请打分。}
menus:
  main:
    kind: choice
    prompt: menu
    timeout: 25s
    keys: {"0": to_wait}
  pin:
    kind: collect
    prompt: pin
    store_as: pin
    min_digits: 4
    max_digits: 8
    sensitive: true
    timeout: 25s
    next: to_wait
  to_talk: {kind: queue, queue: talk}
  to_ring: {kind: queue, queue: ring}
  to_wrap: {kind: queue, queue: wrap}
  to_wait: {kind: queue, queue: wait}
  to_survey: {kind: queue, queue: surveyed}
  survey:
    kind: choice
    prompt: grade
    keys: {"1": bye, "2": bye, "3": bye, "4": bye, "5": bye}
  bye: {kind: hangup}
skills:
  talk: {name: Talk}
  ring: {name: Ring}
  wrap: {name: Wrap}
  wait: {name: Wait}
  surveyed: {name: Surveyed}
agents:
  "2002": {name: Talker, endpoint: Local/2002@sim-agent-long, skills: {talk: 5}, wrap_up: 0s}
  "2003": {name: Away, endpoint: Local/2003@sim-agent-away, skills: {ring: 5}, wrap_up: 0s}
  "2004": {name: Wrapper, endpoint: Local/2004@sim-agent, skills: {wrap: 5}, wrap_up: 8s}
  "2005": {name: Later, endpoint: Local/2005@sim-agent, skills: {wait: 5}, wrap_up: 0s}
  "2006": {name: Surveyed, endpoint: Local/2006@sim-agent, skills: {surveyed: 5}, wrap_up: 0s}
queues:
  talk: {name: Talk, skills: {talk: 1}}
  ring: {name: Ring, skills: {ring: 1}, ring_timeout: 12s}
  wrap: {name: Wrap, skills: {wrap: 1}}
  wait: {name: Wait, skills: {wait: 1}}
  surveyed: {name: Surveyed, skills: {surveyed: 1}}
vip:
  lookup: customer_directory
  aging: 0.0
  tiers:
    normal: {priority: 0, max_wait: 120s}
sampling:
  rate: 1.0
  queues: [surveyed]
  delay: 1s
  ring_for: 30s
  retry_after: 1h
  attempts: 2
  at_most_every_days: 0
  survey: survey
backends:
  # The customer's phone rings 10 s before they answer: ringing at the kill.
  callback_trunk: Local/{number}@sim-customer-slow
"""


@dataclass
class Serving:
    """`hotline serve` processes under one key prefix, each killable."""

    env: dict[str, str]
    prefix: str
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def start(self, name: str) -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline", "serve",
            env={**self.env, "HOTLINE_INSTANCE_ID": name},
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.terminate()
        await asyncio.gather(*(proc.wait() for proc in self.procs))


@pytest.fixture
async def serving(asterisk: sandbox.SandboxInstance, redis_server: LocalRedis,
                  tmp_path: Path, engine: Engine) -> AsyncIterator[Serving]:
    config = tmp_path / "hotline.yaml"
    config.write_text(HOTLINE)
    # Apart from the test engine's keys: the served engines activate this file.
    prefix = f"{engine.settings.key_prefix}served:"
    env = sandbox.serve_environment(asterisk, redis_server.url, prefix, config)
    engine.calls.accepting = False  # the test's engine only places calls and watches
    served = Serving(env, prefix)
    yield served
    # Every caller the test left on the line goes first: an engine stopped with callers
    # in its menus would give them its whole shutdown grace.
    await sandbox.hang_up_everyone(engine.ami)
    await served.stop()
    await sandbox.hang_up_everyone(engine.ami)  # anything placed as they stopped


@dataclass
class Calls:
    """One call in each state at the moment of the kill, by state."""

    ids: dict[str, str] = field(default_factory=dict)
    agent_of: dict[str, str] = field(default_factory=lambda: {
        "talking": "2002", "ringing": "2003", "wrap-up": "2004"})


async def engine_up(redis: Redis, prefix: str, name: str, timeout: float = 30,
                    other_than: str = "") -> str:
    """The lease id of the engine started as `name`, once it holds a lease."""
    async def lease() -> list[str]:
        return [i async for k in redis.scan_iter(f"{prefix}engine:{name}-*")
                if (i := str(k).removeprefix(f"{prefix}engine:")) != other_than]
    ids = await until(lease, timeout, f"engine {name} takes its lease")
    return ids[0]


async def place_every_state(engine: Engine, redis: Redis, prefix: str) -> Calls:
    store = RoutingStore(redis, prefix)
    calls = Calls()
    now = time.time()
    for agent_id in ("2002", "2003", "2004", "2006"):
        await store.apply(agent_id, Move.LOG_IN, now)
        await store.apply(agent_id, Move.GO_READY, now)
    await store.apply("2005", Move.LOG_IN, now)  # logged in, not ready: callers wait

    def place(state: str, caller: SimulatedCaller) -> Callable[[], object]:
        async def go() -> None:
            calls.ids[state] = await place_call(engine.originator, caller)
        return go

    # The wrap-up's call first: the agent talks 3 s, then wraps up for 8 s.
    await place("wrap-up", SimulatedCaller(caller_number="13900000004", dialled_number="183",
                                           stay=60))()
    # Served in 3 s, then sampled: the customer's phone rings for the survey at the kill.
    await place("survey", SimulatedCaller(caller_number="13900000007", dialled_number="186",
                                          stay=60))()
    await place("talking", SimulatedCaller(caller_number="13900000002", dialled_number="180",
                                           stay=60))()
    await place("waiting", SimulatedCaller(caller_number="13900000005", dialled_number="184",
                                           stay=90))()
    # Menu callers press their keys only when they are asked again, after the kill
    # (`press_when_asked_again`): keys pressed while no engine listens are lost, as on
    # any IVR, so a fixed delay would race the restart.
    await place("menu", SimulatedCaller(caller_number="13900000001", dialled_number="10000",
                                        stay=90))()
    await place("pin", SimulatedCaller(caller_number="13900000006", dialled_number="185",
                                       stay=90))()
    await until(lambda: store.agent_state("2004"), 15, "agent 2004 wraps up",
                holds=lambda s: s.value == "wrap_up")
    await place("ringing", SimulatedCaller(caller_number="13900000003", dialled_number="181",
                                           stay=90))()
    await until(lambda: store.agent_state("2003"), 10, "agent 2003's phone rings",
                holds=lambda s: s.value == "reserved")
    await until(lambda: store.agent_state("2002"), 10, "agent 2002 talks",
                holds=lambda s: s.value == "on_call")
    jobs = SurveyJobs(redis, prefix)
    await until(lambda: jobs.state(calls.ids["survey"]), 15, "the survey callback rings",
                holds=lambda job: job.get("state") == "placing")
    # The PIN caller is in the middle of the PIN: the recording is muted.
    log = CallLog(redis, prefix, time.time, 60)
    await until(lambda: log.steps(calls.ids["pin"]), 10, "the PIN is being asked",
                holds=lambda steps: any(s["command"] == "RECORDING MUTED" for s in steps))
    return calls


async def press_when_asked_again(engine: Engine, tap: EventTap, call_id: str, since: int,
                                 keys: str) -> None:
    """The caller is asked a question again (a GET DATA runs on their channel, begun
    after event number `since`, the apology aside) and presses `keys` a moment into it."""
    def question() -> Message | None:
        asking: Message | None = None  # the GET DATA begun and not yet ended
        for msg in tap.events[since:]:
            if msg.get("Uniqueid") != call_id:
                continue
            command = str(msg.get("Command", ""))
            if (msg.get("Event") == "AGIExecStart" and command.startswith("GET DATA")
                    and "one-moment-please" not in command):
                asking = msg
            elif (msg.get("Event") == "AGIExecEnd" and asking is not None
                  and msg.get("CommandId") == asking.get("CommandId")):
                asking = None
        return asking

    msg = await until(question, 10, f"the engine asks {call_id} again")
    await asyncio.sleep(0.3)  # a moment into the question
    await press_keys(engine, msg["Channel"], keys)


async def assert_everyone_recovers(engine: Engine, tap: EventTap, redis: Redis, prefix: str,
                                   calls: Calls, killed: str, restarted_at: float,
                                   since: int) -> None:
    """`since`: the number of AMI events the tap had seen at the kill."""
    log = CallLog(redis, prefix, time.time, 60)
    store = RoutingStore(redis, prefix)
    # Every caller in AGI hears the engine again within 5 s: an apology first.
    for state in ("menu", "pin", "waiting"):
        call_id = calls.ids[state]
        await until(lambda c=call_id: log.steps(c), ADOPTION_S + restarted_at
                            - time.time(), f"the {state} caller hears the engine again",
                            holds=lambda steps: any("one-moment-please" in s["command"]
                                                    for s in steps))
        owner = await log.owner(call_id)
        assert owner is not None and owner != killed, (state, owner)
        if state == "pin":  # unmuted, then the PIN asked for again from its start
            def after_sorry(steps: list[dict[str, str]]) -> list[str]:
                commands = [s["command"] for s in steps]
                sorry = next(n for n, c in enumerate(commands) if "one-moment-please" in c)
                return commands[sorry + 1:sorry + 3]
            await until(lambda c=call_id: log.steps(c), 2, "the PIN is asked for again",
                        holds=lambda steps: after_sorry(steps) == ["RECORDING RESUMED",
                                                                   "NOTE menu pin zh"])
        if state in KEYS:  # the menu callers answer the question asked again
            await press_when_asked_again(engine, tap, call_id, since, KEYS[state])
    # The wrap-up ends on time, though its timer was set by the engine that died.
    wrap_ends = float((await store.agent("2004"))["since"]) + 8
    await until(lambda: store.agent_state("2004"), max(1.0, wrap_ends - time.time()) + 1.5,
                "agent 2004's wrap-up ends on time", holds=lambda s: s.value == "ready")
    # The ring nobody answered ends: the agent is not left reserved, the caller waits
    # at the head of their line again.
    await until(lambda: store.agent_state("2003"), 20, "agent 2003 is no longer reserved",
                holds=lambda s: s.value != "reserved")
    ring_call = calls.ids["ringing"]
    await until(lambda: store.call(ring_call), 10, "the unanswered caller waits again",
                holds=lambda f: f.get("state") in ("waiting", "offered"))
    # The menu callers end where they would have: their keys take them into line.
    for state in ("menu", "pin"):
        await until(lambda c=calls.ids[state]: store.call(c), 20,
                    f"the {state} caller joins the line", holds=lambda f: f.get("queue"))
    # Now agents are free for everyone waiting.
    await store.apply("2005", Move.GO_READY, time.time())
    for state in ("waiting", "menu", "pin"):
        await until(lambda c=calls.ids[state]: store.call(c), 40,
                    f"the {state} caller reaches agent 2005",
                    holds=lambda f: f.get("agent") == "2005")
    # The survey ringing at the kill has one outcome: answered and graded, once.
    survey = calls.ids["survey"]
    result = await until(lambda: SurveyJobs(redis, prefix).result(survey), 30,
                         "the customer answers the survey and grades it",
                         holds=lambda r: r.get("grade") == "4")
    assert result["agent"] == "2006"
    rung = {m["Uniqueid"] for m in tap.events if m.get("Event") == "Newchannel"
            and m.get("Uniqueid", "").startswith(f"survey-{survey}-") and ";" not in m["Uniqueid"]}
    assert rung == {f"survey-{survey}-1"}, rung  # called once, never twice
    # The conversation held through the kill completes: record, statistics, agent.
    talk = calls.ids["talking"]
    await until(lambda: store.call(talk), 40, "the talking caller's conversation ends",
                holds=lambda f: f.get("state") == "ended")
    index = RecordingIndex(redis, prefix)
    for state, call_id in calls.ids.items():
        if state in ("ringing", "survey"):
            continue  # still in line for a ready agent; ended long ago
        await engine.ami.send_action({"Action": "Hangup", "Channel": (await log.record(
            call_id))["channel"]}, check=False)
    for state, call_id in calls.ids.items():
        if state == "ringing":
            continue
        entry = await until(lambda c=call_id: index.entry(c), 20,
                            f"the {state} call's recording is filed",
                            holds=lambda e: "sha256" in e)
        assert entry["call_id"] == call_id
    # No agent stuck with a call that is gone.
    for agent_id in ("2002", "2004", "2005"):
        state = await until(lambda a=agent_id: store.agent_state(a), 15,
                            f"agent {agent_id} is free",
                            holds=lambda s: s.value in ("ready", "wrap_up", "not_ready"))
        assert state.value != "reserved"


async def test_a_killed_engine_is_restarted_and_takes_every_call_over(
        serving: Serving, engine: Engine, tap: EventTap, redis: Redis) -> None:
    prefix = serving.prefix
    first = await serving.start("crash")
    killed = await engine_up(redis, prefix, "crash")
    calls = await place_every_state(engine, redis, prefix)

    since = len(tap.events)
    os.kill(first.pid, signal.SIGKILL)
    await first.wait()
    await serving.start("crash")
    restarted_at = time.time()
    await engine_up(redis, prefix, "crash", other_than=killed)  # a new lease, a new id
    await assert_everyone_recovers(engine, tap, redis, prefix, calls, killed, restarted_at,
                                   since)


async def test_a_peer_adopts_the_calls_of_an_engine_killed_beside_it(
        serving: Serving, engine: Engine, tap: EventTap, redis: Redis) -> None:
    prefix = serving.prefix
    # Only the doomed engine takes the calls: the peer starts once they are placed.
    doomed = await serving.start("doomed")
    killed = await engine_up(redis, prefix, "doomed")
    calls = await place_every_state(engine, redis, prefix)
    await serving.start("peer")
    await engine_up(redis, prefix, "peer")

    since = len(tap.events)
    os.kill(doomed.pid, signal.SIGKILL)
    killed_at = time.time()
    await doomed.wait()
    await assert_everyone_recovers(engine, tap, redis, prefix, calls, killed, killed_at, since)

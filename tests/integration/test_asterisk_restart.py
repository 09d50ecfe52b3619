"""Asterisk restarted under the engine (a package upgrade, an operator's `systemctl
restart`) while callers talk, wait and listen to a menu. Every channel goes with it;
what the engine owes them does not:

- the callers who waited keep their place and are called back, first in line first;
- the agent who was talking is free, and every record is closed and says why;
- every recording made before the restart is filed;
- the engine serves the next caller without a restart of its own.

It runs on an Asterisk sandbox instance of its own, since it restarts it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import Move
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from pbx.ami import ConnectionState
from routing.store import RoutingStore
from tests.conftest import EventTap
from tests.integration.helpers import engine_for, talk_and_wait_hotline, until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

HOTLINE = talk_and_wait_hotline("""\
  "2101": {name: Talker, endpoint: Local/2101@sim-agent-long, skills: {talk: 5}, wrap_up: 0s}
  "2102": {name: Later, endpoint: Local/2102@sim-agent-long, skills: {wait: 5}, wrap_up: 0s}
""", extra="""\
backends:
  callback_trunk: Local/{number}@sim-customer
""")


RTP_START = 30000 + 2 * (os.getpid() % 4000)


@pytest.fixture(scope="module")
def own_asterisk() -> Iterator[sandbox.SandboxInstance]:
    with sandbox.owned(f"restart-{os.getpid()}", RTP_START) as box:
        yield box


@pytest.fixture
async def served(own_asterisk: sandbox.SandboxInstance, redis_server: LocalRedis,
                 settings: Settings, redis: Redis,
                 tmp_path: Path) -> AsyncIterator[tuple[Engine, EventTap]]:
    state = own_asterisk.state
    mine = replace(settings, ami=own_asterisk.ami,
                   prompts_dir=Path(str(state["sounds_dir"])),
                   prompts_dir_asterisk=str(state["sounds_dir_in_chroot"]),
                   recordings_dir=Path(str(state["recordings_dir"])),
                   recordings_dir_asterisk=str(state["recordings_dir_in_chroot"]))
    engine, tap = await engine_for(mine, redis, HOTLINE, tmp_path)
    yield engine, tap
    await sandbox.hang_up_everyone(engine.ami)
    await engine.stop()


def restart(box: sandbox.SandboxInstance) -> None:
    """As an operator restarts it: stopped (SIGTERM), started again on the same ports."""
    sandbox.stop(box.name, purge=False)
    sandbox.start(box.name, box.ami.port, box.sip_port, RTP_START)


async def test_callers_cut_off_by_an_asterisk_restart_are_called_back_in_their_place(
        served: tuple[Engine, EventTap], own_asterisk: sandbox.SandboxInstance) -> None:
    engine, tap = served
    store: RoutingStore = engine.routing
    now = time.time()
    await store.apply("2101", Move.LOG_IN, now)
    await store.apply("2101", Move.GO_READY, now)
    await store.apply("2102", Move.LOG_IN, now)  # not ready: callers wait

    talking = await place_call(engine.originator, SimulatedCaller(
        caller_number="13700000001", dialled_number="180", stay=60))
    waiting = []
    for n in (2, 3):  # in this order: 13700000002 waits longest
        waiting.append(await place_call(engine.originator, SimulatedCaller(
            caller_number=f"1370000000{n}", dialled_number="184", stay=60)))
        await until(lambda c=waiting[-1]: store.call(c), 15, "the caller waits",
                    holds=lambda f: f.get("state") == "waiting")
    in_menu = await place_call(engine.originator, SimulatedCaller(
        caller_number="13700000004", dialled_number="10000", stay=60))
    await until(lambda: store.agent_state("2101"), 15, "agent 2101 talks",
                holds=lambda s: s.value == "on_call")
    await until(lambda: engine.call_log.steps(in_menu), 15, "the menu plays",
                holds=lambda steps: any("NOTE menu main" in s["command"] for s in steps))
    arrived = {c: float((await store.call(c))["arrived_at"]) for c in waiting}

    await asyncio.to_thread(restart, own_asterisk)
    await until(lambda: engine.ami.state, 30, "the engine is logged in again",
                holds=lambda s: s is ConnectionState.UP)

    # The agent is free; every record is closed, saying Asterisk went away.
    await until(lambda: store.agent_state("2101"), 15, "agent 2101 is free",
                holds=lambda s: s.value == "ready")
    await until(lambda: store.call(talking), 15, "the conversation has ended",
                holds=lambda f: f.get("state") == "ended")
    for call_id in (*waiting, in_menu):  # they were in AGI when Asterisk went
        record = await until(lambda c=call_id: engine.call_log.record(c), 15,
                             f"call {call_id} is closed", holds=lambda r: not r.get("open"))
        assert "Asterisk" in record["outcome"], record
    # Every recording made before the restart is filed.
    for call_id in (talking, *waiting, in_menu):
        entry = await until(lambda c=call_id: engine.recordings.entry(c), 20,
                            f"the recording of {call_id} is filed",
                            holds=lambda e: "sha256" in e)
        assert entry["call_id"] == call_id
    # The waiting callers keep their place, to be called back.
    line = await store.waiting("wait")
    assert [c.call_id for c in line] == waiting
    for call_id in waiting:
        fields = await store.call(call_id)
        assert fields["callback"] == (await engine.call_log.record(call_id))["caller_number"]
        assert float(fields["arrived_at"]) == arrived[call_id]

    # An agent is free: the caller who waited longest is called back first.
    await store.apply("2102", Move.GO_READY, time.time())
    answered = await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                                  and m.get("Agent") == "2102", timeout=30)
    assert answered["Caller"] == "13700000002"  # the agent's phone shows who it is
    assert (await store.call(waiting[0])).get("agent") == "2102"
    assert (await store.call(waiting[1])).get("state") == "waiting"

    # And the next caller is served as before.
    next_call = await place_call(engine.originator, SimulatedCaller(
        caller_number="13700000005", dialled_number="10000", stay=10))
    await until(lambda: engine.call_log.steps(next_call), 20, "the next caller hears the menu",
                holds=lambda steps: any("NOTE menu main" in s["command"] for s in steps))

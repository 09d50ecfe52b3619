"""Redis killed (SIGKILL) for 8 s while callers talk, wait and listen to a menu, then
started again from its append-only file, as the embedded default runs it.

- what was stored before the kill is all there: agents, the line, the config, records;
- agents whose conversations ended during the outage are not left on a call;
- those conversations' recordings are filed;
- the waiting callers keep their place and reach an agent;
- no caller is left in silence: the one in the menu is still served or reached a person.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from agents.state import Move
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from tests.conftest import EventTap
from tests.integration.helpers import engine_for, talk_and_wait_hotline, until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

OUTAGE_S = 8.0

HOTLINE = talk_and_wait_hotline("""\
  "2201": {name: Short A, endpoint: Local/2201@sim-agent, skills: {talk: 5}, wrap_up: 1s}
  "2202": {name: Short B, endpoint: Local/2202@sim-agent, skills: {talk: 5}, wrap_up: 1s}
  "2203": {name: Later, endpoint: Local/2203@sim-agent, skills: {wait: 5}, wrap_up: 0s}
""")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    server = LocalRedis(directory=tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
async def served(settings: Settings, own_redis: LocalRedis,
                 tmp_path: Path) -> AsyncIterator[tuple[Engine, EventTap]]:
    client = connect(own_redis.url)
    engine, tap = await engine_for(replace(settings, redis_url=own_redis.url), client,
                                   HOTLINE, tmp_path)
    try:
        yield engine, tap
    finally:
        await sandbox.hang_up_everyone(engine.ami)
        await engine.stop()
        await client.aclose()


async def test_nothing_is_lost_and_nobody_is_stuck_when_redis_dies_under_load(
        served: tuple[Engine, EventTap], own_redis: LocalRedis) -> None:
    engine, tap = served
    store = engine.routing
    now = time.time()
    for agent_id in ("2201", "2202"):
        await store.apply(agent_id, Move.LOG_IN, now)
        await store.apply(agent_id, Move.GO_READY, now)
    await store.apply("2203", Move.LOG_IN, now)  # not ready: callers wait

    waiting = []
    for n in range(3):
        waiting.append(await place_call(engine.originator, SimulatedCaller(
            caller_number=f"1360000001{n}", dialled_number="184", stay=90)))
        await until(lambda c=waiting[-1]: store.call(c), 15, "the caller waits",
                    holds=lambda f: f.get("state") == "waiting")
    talking = [await place_call(engine.originator, SimulatedCaller(
        caller_number=f"1360000002{n}", dialled_number="180", stay=60)) for n in range(2)]
    for agent_id in ("2201", "2202"):  # each talks 3 s, then hangs up
        await until(lambda a=agent_id: store.agent_state(a), 15, f"agent {agent_id} talks",
                    holds=lambda s: s.value == "on_call")
    in_menu = await place_call(engine.originator, SimulatedCaller(
        caller_number="13600000030", dialled_number="10000", keys="0", delay=4, stay=60))
    await until(lambda: engine.call_log.steps(in_menu), 15, "the menu plays",
                holds=lambda steps: any("NOTE menu main" in s["command"] for s in steps))
    before = {c: await store.call(c) for c in waiting}
    await asyncio.sleep(1.5)  # AOF fsyncs every second: what is older is on disk

    # Redis dies; both conversations and the menu caller's keys happen without it.
    await asyncio.to_thread(own_redis.kill)
    await asyncio.sleep(OUTAGE_S)
    await asyncio.to_thread(own_redis.start)

    # Everything stored before the kill is there.
    for call_id in waiting:
        assert (await store.call(call_id))["arrived_at"] == before[call_id]["arrived_at"]
    assert [c.call_id for c in await store.waiting("wait")][:3] == waiting
    assert (await store.agent_state("2203")).value == "not_ready"
    # The agents whose calls ended during the outage are free again.
    for agent_id in ("2201", "2202"):
        await until(lambda a=agent_id: store.agent_state(a), 20,
                    f"agent {agent_id} is free after the outage",
                    holds=lambda s: s.value == "ready")
    for call_id in talking:
        await until(lambda c=call_id: store.call(c), 10, "the conversation has ended",
                    holds=lambda f: f.get("state") == "ended")
        entry = await until(lambda c=call_id: engine.recordings.entry(c), 20,
                            f"the recording of {call_id} is filed",
                            holds=lambda e: "sha256" in e)
        assert entry["call_id"] == call_id
    # The menu caller was not left in silence: in line, or with a person.
    to_person = [m for m in tap.events if m.get("UserEvent") == "HotlineFallback"
                 and m.get("CallId") == in_menu]
    fields = await store.call(in_menu)
    assert to_person or fields.get("state") == "waiting", (fields, to_person)
    # An agent frees up: the callers who waited through the outage are served in order.
    await store.apply("2203", Move.GO_READY, time.time())
    await until(lambda: store.call(waiting[0]), 20, "the longest waiting caller is served",
                holds=lambda f: f.get("agent") == "2203")

"""An engine on Redis Sentinel: its master dies, the Sentinels promote the replica, and
the same engine, never restarted, serves, journals and records its callers on the new
master (the one in the menu at that moment included), where everything stored before
the failover still is."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from agents.state import AgentState, Move
from config.versions import ConfigVersions
from hotline.calls.journal import caller_view
from hotline.calls.records import CallLog
from hotline.dev.local_sentinel import LocalSentinel
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from quality.recording_index import RecordingIndex
from routing.store import RoutingStore
from tests.integration.helpers import until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"
# The example's main menu: 6 is no choice there, so the caller hears why (and hangs up
# soon after).
WRONG_KEY = ["(recording started)", "heard zh/main_menu", "pressed 6", "heard zh/invalid_choice"]


@pytest.fixture
async def redis_set() -> AsyncIterator[LocalSentinel]:
    """A master, its replica and three Sentinels that fail over within seconds."""
    sentinel = LocalSentinel(sentinels=3)
    await asyncio.to_thread(sentinel.start)
    try:
        yield sentinel
    finally:
        await asyncio.to_thread(sentinel.stop)


def asking(engine: Engine, call_id: str, prompt: str) -> bool:
    """The engine waits for the caller's keys over `prompt` now."""
    return any(c.call.call.call_id == call_id and c.line.startswith("GET DATA")
               and f"/{prompt} " in c.line for c in engine.agi.commands.values())


async def ended(call_log: CallLog, call_id: str) -> dict[str, str]:
    return await until(lambda: call_log.record(call_id), 30, f"call {call_id} ends",
                       holds=lambda record: "ended" in record)


async def served_and_recorded(redis: Redis, prefix: str, call_id: str,
                              caller_number: str) -> list[dict[str, Any]]:
    """What a supervisor reads of the call in `redis`: it ended as the caller left it
    (never sent to a person for want of Redis), and its recording is filed. Its
    journal."""
    record = await ended(CallLog(redis, prefix, time.time, 3600), call_id)
    assert record["caller_number"] == caller_number
    assert record["outcome"] == "caller gone: hung up"
    entry = await until(lambda: RecordingIndex(redis, prefix).entry(call_id), 20,
                        f"the recording of call {call_id} is filed",
                        holds=lambda entry: "sha256" in entry)
    assert entry["problems"] == "[]"
    return await CallLog(redis, prefix, time.time, 3600).steps(call_id)


async def test_an_engine_follows_a_sentinel_failover_without_a_restart(
        settings: Settings, redis_set: LocalSentinel, tmp_path: Path) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(EXAMPLE.read_text())
    # Only a message from Redis can move this engine to a new version within the test:
    # no look at the file, no poll of the live version in between.
    settings = replace(settings, redis_url=redis_set.url, config_path=config,
                       config_poll=3600)
    prefix = settings.key_prefix
    redis = connect(redis_set.url)
    engine = Engine(settings, redis)
    await engine.start()
    try:
        # Before: an agent logs in, a caller is served, version 1 is live.
        await engine.routing.apply("1001", Move.LOG_IN, time.time())
        before = await place_call(engine.originator, SimulatedCaller(
            caller_number="13800000076", keys="6", stay=3))
        await ended(engine.call_log, before)
        assert engine.live.version == 1

        # A caller is in the main menu when the master dies; they press their key
        # while the Sentinels are still promoting the replica.
        during = await place_call(engine.originator, SimulatedCaller(
            caller_number="13800000077", keys="6", delay=1.5, stay=4))
        await until(lambda: asking(engine, during, "main_menu"), 15,
                    "the caller hears the main menu and the engine waits for a key")
        # Replication is asynchronous: the test lets the replica catch up first, as
        # a master that lived a moment longer would have (see the README).
        assert await redis.wait(1, 5000) == 1
        old = redis_set.master_port()
        redis_set.servers[0].kill()  # SIGKILL: no goodbye to the replica or the engine
        promoted = await asyncio.to_thread(redis_set.wait_for_failover, old)
        assert promoted is redis_set.servers[1]

        # Read on the promoted server itself, not through Sentinel or the engine.
        direct = connect(promoted.url)
        try:
            # After, on the same engine: a new caller reaches the menu and is served
            # to the end, journalled and recorded on the new master.
            after = await place_call(engine.originator, SimulatedCaller(
                caller_number="13800000078", keys="6", stay=3))
            assert caller_view(await served_and_recorded(
                direct, prefix, after, "13800000078"))[:4] == WRONG_KEY
            # The caller in the menu during the failover: served to the end as well,
            # every step journalled in order, recorded.
            steps = await served_and_recorded(direct, prefix, during, "13800000077")
            assert caller_view(steps)[:4] == WRONG_KEY
            assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)

            # Everything from before the failover is still there.
            assert caller_view(await served_and_recorded(
                direct, prefix, before, "13800000076"))[:4] == WRONG_KEY
            agents = RoutingStore(direct, prefix)
            assert await agents.agent_state("1001") is AgentState.NOT_READY
            # And the agent is not stuck: they go ready and log out through the engine.
            await engine.routing.apply("1001", Move.GO_READY, time.time())
            await engine.routing.apply("1001", Move.LOG_OUT, time.time())
            assert await agents.agent_state("1001") is AgentState.LOGGED_OUT

            # A supervisor activates a new version with the same URL, from the shell;
            # the engine hears of it through Redis (its subscription followed the
            # master) and serves it.
            edited = tmp_path / "edited.yaml"
            edited.write_text(EXAMPLE.read_text().replace("  rate: 0.10", "  rate: 0.20"))
            env = {**os.environ, "HOTLINE_REDIS_URL": redis_set.url,
                   "HOTLINE_KEY_PREFIX": prefix, "HOTLINE_AUTHOR": "supervisor"}
            cli = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hotline", "config", "activate", str(edited), env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            output, _ = await asyncio.wait_for(cli.communicate(), timeout=30)
            assert cli.returncode == 0, output.decode()
            assert await ConfigVersions(direct, prefix, time.time).active_number() == 2
            await until(lambda: engine.live.version, 15, "the engine serves version 2",
                        holds=lambda version: version == 2)
            assert engine.live.config.sampling.rate == 0.20
        finally:
            await direct.aclose()
    finally:
        await engine.stop()
        await redis.aclose()

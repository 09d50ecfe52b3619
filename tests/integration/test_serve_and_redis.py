"""`hotline serve` as an operator runs it, and the engine across a Redis restart: between
two calls, and in the middle of one."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from config.versions import ConfigVersions
from hotline.calls.journal import caller_view
from hotline.calls.records import CallLog
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from ivr.welcome import WelcomePrompts, welcome_menu
from tests.conftest import EventTap
from tests.integration.helpers import until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"


async def test_serve_answers_calls_reloads_on_sighup_and_stops_on_sigterm(
        asterisk: sandbox.SandboxInstance, redis_server: LocalRedis, redis: Redis,
        engine: Engine, tmp_path: Path) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(EXAMPLE.read_text())
    env = {**os.environ, "HOTLINE_AMI_HOST": asterisk.ami.host,
           "HOTLINE_AMI_PORT": str(asterisk.ami.port), "HOTLINE_AMI_USER": asterisk.ami.username,
           "HOTLINE_AMI_SECRET": asterisk.ami.secret, "HOTLINE_REDIS_URL": redis_server.url,
           "HOTLINE_KEY_PREFIX": "served:", "HOTLINE_INSTANCE_ID": "serve-under-test",
           "HOTLINE_SECRET_KEY": "test-secret-key",
           "HOTLINE_PROMPTS_DIR": str(asterisk.state["sounds_dir"]),
           "HOTLINE_PROMPTS_DIR_ASTERISK": str(asterisk.state["sounds_dir_in_chroot"]),
           "HOTLINE_RECORDINGS_DIR": str(asterisk.state["recordings_dir"]),
           "HOTLINE_RECORDINGS_DIR_ASTERISK": str(asterisk.state["recordings_dir_in_chroot"]),
           # Only SIGHUP may activate the edited file in this test, not the file watcher.
           "HOTLINE_CONFIG": str(config), "HOTLINE_CONFIG_POLL": "3600"}
    # The `engine` fixture stays out of the way: it serves no call while we look away.
    engine.calls.accepting = False
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", "serve", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        call_log = CallLog(redis, "served:", time.time, 3600)
        await until(lambda: asyncio.to_thread(asterisk.cli, "manager show connected"), 15,
                    "hotline serve logs in to AMI",
                    holds=lambda sessions: sessions.count(f"{asterisk.ami.username} ") >= 2)
        call_id = await place_call(engine.originator, SimulatedCaller(keys="6", stay=4))
        record = await until(lambda: call_log.record(call_id), 30, f"call {call_id} ends",
                             holds=lambda record: "ended" in record)
        # The example's main menu: 6 is no choice there, so the caller hears why.
        journal = await call_log.steps(call_id)
        assert journal[0]["command"].startswith("RECORDING STARTED /srv/hotline/")
        steps = [s for s in journal if not s["command"].startswith(("RECORDING", "NOTE"))]
        assert next(s["command"] for s in journal if s["command"].startswith("NOTE")) == \
            "NOTE menu main zh"  # where an engine taking the call over would resume
        assert record["instance"].startswith("serve-under-test-")  # and this start's part
        assert steps[0]["command"].startswith("GET DATA /srv/hotline/")
        assert steps[0]["command"].split()[2].endswith("/zh/main_menu")
        assert steps[0]["result"] == "6"
        assert steps[1]["command"].split()[2].endswith("/zh/invalid_choice")

        versions = ConfigVersions(redis, "served:", time.time)
        assert await versions.active_number() == 1
        config.write_text(EXAMPLE.read_text().replace("  rate: 0.10", "  rate: 0.20"))
        proc.send_signal(signal.SIGHUP)
        await until(versions.active_number, 10, "SIGHUP activates the edited file",
                    holds=lambda number: number == 2)
        assert "rate: 0.20" in (await versions.active()).text  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0, output.decode()


async def test_calls_are_served_across_a_redis_restart(
        engine: Engine, redis_server: LocalRedis, settings: Settings) -> None:
    before = await place_call(engine.originator, SimulatedCaller(keys="1"))
    await wait_ended(engine, before)
    await asyncio.to_thread(redis_server.restart)

    after = await place_call(engine.originator, SimulatedCaller(keys="2"))
    record = await wait_ended(engine, after)
    assert record["outcome"] == "served"
    assert (await engine.call_log.steps(after))[0]["result"] == "2"
    # What was stored before the restart is still there.
    assert (await engine.call_log.record(before))["outcome"] == "served"


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    """A redis-server of this test's own, to stop and start; its directory (append-only
    file included) outlives a stop."""
    server = LocalRedis(directory=tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.fixture
async def welcome_on_own_redis(settings: Settings, own_redis: LocalRedis
                               ) -> AsyncIterator[tuple[Engine, EventTap]]:
    """An engine running the first menu (welcome, a key, said back) on `own_redis`."""
    client = connect(own_redis.url)
    prompts = WelcomePrompts()
    engine = Engine(replace(settings, redis_url=own_redis.url), client,
                    menu=lambda line: welcome_menu(line, prompts), watch_config=False)
    tap = EventTap()
    engine.ami.add_raw_listener(tap)
    await engine.start()
    try:
        yield engine, tap
    finally:
        await engine.stop()
        await client.aclose()


def pending(engine: Engine, call_id: str, command: str) -> bool:
    """The engine has sent `command` (its first words) for the call and waits for it."""
    return any(c.call.call.call_id == call_id and c.line.startswith(command)
               for c in engine.agi.commands.values())


async def test_a_call_in_a_menu_is_served_and_journalled_across_a_redis_restart(
        welcome_on_own_redis: tuple[Engine, EventTap], own_redis: LocalRedis) -> None:
    engine, tap = welcome_on_own_redis
    caller = SimulatedCaller(caller_number="13800000077", keys="7", delay=3, stay=20)
    call_id = await place_call(engine.originator, caller)
    await until(lambda: pending(engine, call_id, "GET DATA hello"), 10,
                "the caller hears the welcome and the engine waits for a key")

    # Redis stops while the caller is in the menu. They press 7 during the outage, and
    # the engine goes on with the menu without Redis: its journal write of the key gave
    # up before the menu said the key back.
    await asyncio.to_thread(own_redis.stop, keep_data=True)
    try:
        await until(lambda: pending(engine, call_id, "STREAM FILE you-entered"), 20,
                    "the menu goes on after the key while Redis is down")
    finally:
        await asyncio.to_thread(own_redis.start)  # back while the caller is still on

    # What a supervisor sees: the call ended with its outcome, and its journal tells
    # every step of it, the ones during the outage included, in order.
    record = await wait_ended(engine, call_id, timeout=30)
    assert record["outcome"] == "served"
    assert record["caller_number"] == caller.caller_number  # stored before the outage
    steps = await engine.call_log.steps(call_id)
    assert caller_view(steps) == ["heard hello", "pressed 7", "heard you-entered",
                                  "heard digits 7", "heard goodbye", "was hung up on"]
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    # Served to the menu's end, not dropped: the engine hung up after the goodbye, and
    # the caller was never sent to a person.
    await tap.wait_for(lambda m: m.get("Event") == "Hangup" and m.get("Uniqueid") == call_id,
                       timeout=10)
    assert not [m for m in tap.events if m.get("UserEvent") == "HotlineFallback"
                and m.get("CallId") == call_id]

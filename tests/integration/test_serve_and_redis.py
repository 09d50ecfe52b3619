"""`hotline serve` as an operator runs it, and the engine across a Redis restart."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from config.versions import ConfigVersions
from hotline.calls.records import CallLog
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from tests.integration.helpers import wait_ended

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
           "HOTLINE_PROMPTS_DIR": str(asterisk.state["sounds_dir"]),
           "HOTLINE_PROMPTS_DIR_ASTERISK": str(asterisk.state["sounds_dir_in_chroot"]),
           "HOTLINE_RECORDINGS_DIR": str(asterisk.state["recordings_dir"]),
           "HOTLINE_RECORDINGS_DIR_ASTERISK": str(asterisk.state["recordings_dir_in_chroot"]),
           # Only SIGHUP may activate the edited file in this test, not the file watcher.
           "HOTLINE_CONFIG": str(config), "HOTLINE_CONFIG_POLL": "3600"}
    # The `engine` fixture stays out of the way: it serves no call while we look away.
    engine.accepting = False
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", "serve", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        call_log = CallLog(redis, "served:", time.time, 3600)
        deadline = time.monotonic() + 15
        call_id = ""
        while time.monotonic() < deadline:  # until serve is logged in to AMI
            connected = asterisk.cli("manager show connected")
            if connected.count(f"{asterisk.ami.username} ") >= 2:
                call_id = await place_call(engine.originator,
                                           SimulatedCaller(keys="6", stay=4))
                break
            await asyncio.sleep(0.2)
        assert call_id, "hotline serve never logged in to AMI"
        while "ended" not in (record := await call_log.record(call_id)):
            assert time.monotonic() < deadline + 15, record
            await asyncio.sleep(0.1)
        # The example's main menu: 6 is no choice there, so the caller hears why.
        journal = await call_log.steps(call_id)
        assert journal[0]["command"].startswith("RECORDING STARTED /srv/hotline/")
        steps = [s for s in journal if not s["command"].startswith("RECORDING")]
        assert record["instance"] == "serve-under-test"
        assert steps[0]["command"].startswith("GET DATA /srv/hotline/")
        assert steps[0]["command"].split()[2].endswith("/zh/main_menu")
        assert steps[0]["result"] == "6"
        assert steps[1]["command"].split()[2].endswith("/zh/invalid_choice")

        versions = ConfigVersions(redis, "served:", time.time)
        assert await versions.active_number() == 1
        config.write_text(EXAMPLE.read_text().replace("  rate: 0.10", "  rate: 0.20"))
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while await versions.active_number() != 2:
            assert time.monotonic() < deadline, "SIGHUP did not activate the edited file"
            await asyncio.sleep(0.1)
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

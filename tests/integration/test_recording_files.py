"""Recording files as a supervisor finds them: filed by day and queue, stereo when the
config says so, indexed even when the engine restarted before the hangup was handled,
and deleted past retention unless flagged."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from pbx.ports import Call
from quality.recordings import inspect
from routing.decide import WaitingCall
from tests.integration.helpers import agents_ready, engine_for, until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

CONFIG = Path(__file__).resolve().parents[1] / "data" / "config" / "live_queue.yaml"
QUEUE_AT_ONCE = ("      - after: 300s\n", "      - after: 0s\n")


def rms(path: Path, channel: int) -> float:
    out = subprocess.run(["sox", str(path), "-n", "remix", str(channel), "stat"],
                         capture_output=True, text=True, check=True).stderr
    return float(next(line for line in out.splitlines()
                      if line.startswith("RMS") and "amplitude" in line).split()[-1])


async def indexed(engine: Engine, call_id: str, timeout: float = 15) -> dict[str, str]:
    return await until(lambda: engine.recordings.entry(call_id), timeout,
                       f"the recording of call {call_id} is indexed",
                       holds=lambda entry: "sha256" in entry)


async def test_stereo_recording_keeps_caller_and_what_they_heard_apart(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = CONFIG.read_text().replace(*QUEUE_AT_ONCE) + "recording:\n  format: stereo\n"
    engine, _tap = await engine_for(settings, redis, text, tmp_path)
    try:
        await agents_ready(engine, "1001")
        caller = SimulatedCaller(caller_number="13522220001", keys="0", delay=1.5, stay=30)
        call_id = await place_call(engine.originator, caller)
        await wait_ended(engine, call_id)
        entry = await indexed(engine, call_id)
    finally:
        await engine.stop()
    day = dt.datetime.fromtimestamp(int(entry["started"]) / 1000, dt.UTC).date().isoformat()
    path = Path(str(settings.recordings_dir)) / day / "billing" / f"{call_id}.wav"
    assert entry["path"] == str(path) and entry["problems"] == "[]"
    # The two sides Asterisk wrote beside the mixed file are in the stereo one now.
    assert not list(path.parent.parent.glob(f"{call_id}*.wav")), "sides left behind"
    channels = subprocess.run(["soxi", "-c", str(path)], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert channels == "2"
    call_seconds = (int(entry["ended"]) - int(entry["started"])) / 1000
    assert abs(float(entry["duration"]) - call_seconds) < 2.0
    # The caller's phone sent silence; the menu prompt reached their ear.
    assert rms(path, 1) < 0.001
    assert rms(path, 2) > 0.01


async def test_a_hangup_missed_by_a_stopping_engine_is_indexed_after_restart(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    engine, _ = await engine_for(settings, redis, CONFIG.read_text(), tmp_path)
    caller = SimulatedCaller(caller_number="13522220002", dialled_number="10000", stay=3)
    try:
        call_id = await place_call(engine.originator, caller)
        await wait_ended(engine, call_id)  # the caller hung up in the menu
    finally:
        await engine.stop()  # before the recording was filed (it waits for the file)
    assert await engine.recordings.entry(call_id) == {}
    assert call_id in await engine.recordings.pending(int(time.time() * 1000))

    engine, _ = await engine_for(settings, redis, CONFIG.read_text(), tmp_path)
    try:
        entry = await indexed(engine, call_id)
    finally:
        await engine.stop()
    assert entry["problems"] == "[]" and float(entry["duration"]) > 2.0
    assert Path(entry["path"]).parent.name == "self-service"
    assert call_id not in await engine.recordings.pending(int(time.time() * 1000))


async def test_a_callback_leg_that_ended_while_no_engine_watched_is_indexed_after_restart(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    """The customer took their queue callback and the leg was recorded; its hangup came
    while no engine listened. The next engine's sweep files it with the call."""
    engine, _ = await engine_for(settings, redis, CONFIG.read_text(), tmp_path)
    await engine.stop()
    call_id, number, now = "kept-1", "13522220003", time.time()
    await engine.call_log.claim_and_open(Call(call_id, "Local/in;2", number, "", "180"),
                                         settings.instance_id)
    await engine.routing.join(WaitingCall(call_id, "billing", now - 60, "normal", 0), "",
                              number)
    await engine.routing.keep_for_callback(call_id, number)
    assert await engine.routing.advance_call(call_id, "waiting", "offered")
    day = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
    source = f"{settings.recordings_dir_asterisk}/{day}/{call_id}-callback-1.wav"
    await engine.routing.callback_placed(call_id, source)
    await engine.keeper.callback_answered(call_id, "Local/13522220003@trunk-00000001;1")
    assert f"{call_id}-callback-1" in await engine.recordings.pending(int(time.time() * 1000))
    written = Path(str(settings.recordings_dir)) / day / f"{call_id}-callback-1.wav"
    written.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", str(written), "synth",
                    "3", "sine", "440"], check=True)  # as MixMonitor writes it

    assert await engine.keeper.sweep([]) == 1
    callback, = await engine.recordings.recordings_of(call_id)  # the call's own: not here
    assert (callback["call_id"], callback["leg"]) == (call_id, "callback")
    assert Path(callback["path"]) == Path(str(settings.recordings_dir)) / day / "billing" / \
        f"{call_id}-callback-1.wav"
    assert callback["problems"] == "[]" and float(callback["duration"]) == 3.0
    assert int(callback["ended"]) - int(callback["started"]) == 3000  # the file says so
    assert not written.exists() and await engine.recordings.pending(
        int(time.time() * 1000)) == []


async def test_retention_deletes_old_recordings_and_keeps_flagged_ones(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = CONFIG.read_text() + "recording:\n  retention_days: 30\n"
    engine, _ = await engine_for(settings, redis, text, tmp_path)
    await engine.stop()  # the live version is what the purge reads; no calls needed
    now = time.time()
    files = {}
    for name, age_days in (("old", 31), ("disputed", 90), ("recent", 29)):
        path = tmp_path / "recordings" / f"{name}.wav"
        path.parent.mkdir(exist_ok=True)
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(path), "synth", "1",
                        "sine", "440"], check=True)
        ended = int((now - age_days * 86400) * 1000)
        await engine.recordings.store(name, {"call_id": name, "ended": str(ended),
                                             "started": str(ended - 1000)},
                                      inspect(path), [], [])
        files[name] = path

    env = {**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
           "HOTLINE_KEY_PREFIX": settings.key_prefix}

    def hotline(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotline", "recordings", *args],
                              capture_output=True, text=True, env=env, timeout=60)

    flagged = hotline("flag", "disputed", "--reason", "complaint 2291")
    assert flagged.returncode == 0, flagged.stderr
    assert hotline("flag", "no-such-call").returncode == 1
    dry = hotline("purge", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would delete 1 recording(s) older than 30 day(s); kept 1 flagged" in dry.stdout
    assert all(path.exists() for path in files.values())

    purged = hotline("purge")
    assert "deleted 1 recording(s)" in purged.stdout, purged.stdout + purged.stderr
    assert not files["old"].exists() and await engine.recordings.entry("old") == {}
    assert files["disputed"].exists() and files["recent"].exists()
    kept = await engine.recordings.entry("disputed")
    assert kept["flagged"] == "complaint 2291"
    assert "FLAGGED (complaint 2291)" in hotline("list").stdout

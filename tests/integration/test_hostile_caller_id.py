"""A real SIP caller whose From user carries percent-encoded CR/LF: Asterisk writes the
caller number raw into AMI events, so the text after the CR/LF reads as a whole new
event. Here it forges a `Hangup` of another caller, who is talking to an agent."""

from __future__ import annotations

import asyncio
import re
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from redis.asyncio import Redis

from hotline.dev import sandbox
from hotline.dev.local_redis import free_port
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.settings import Settings
from tests.integration.helpers import agents_ready, engine_for, until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

DATA = Path(__file__).resolve().parents[1] / "data"
CONFIG = (DATA / "config" / "live_queue.yaml").read_text().replace(
    "    endpoint: Local/1001@sim-agent\n    skills: {billing: 5}\n",
    "    endpoint: Local/1001@sim-agent-long\n    skills: {billing: 9}\n")


def forged_hangup(call_id: str) -> str:
    """A caller number that ends its own event and makes a whole Hangup of `call_id`,
    whose channel the caller cannot know. The last blank line keeps the real event's
    headers out of the forged one. Asterisk keeps 80 characters of a number."""
    return f"139\r\n\r\nEvent: Hangup\r\nUniqueid: {call_id}\r\nCause: 16\r\n\r\n"


def call_in(box: sandbox.SandboxInstance, number: str, hold_ms: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["sipp", "-sf", str(DATA / "sipp" / "caller.xml"), "-i", "127.0.0.1",
         "-p", str(free_port()), "-mp", str(free_port()), "-m", "1", "-s", "10000",
         "-key", "caller", quote(number, safe=""), "-d", str(hold_ms), "-nostdin",
         "-timeout", "30s", "-timeout_error", f"127.0.0.1:{box.sip_port}"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


async def test_a_forged_hangup_in_a_caller_id_ends_nobody_s_call(
        settings: Settings, redis: Redis, asterisk: sandbox.SandboxInstance,
        tmp_path: Path) -> None:
    engine, tap = await engine_for(settings, redis, CONFIG, tmp_path)
    try:
        await agents_ready(engine, "1001")
        victim = await place_call(engine.originator, SimulatedCaller(
            caller_number="13511112222", dialled_number="180", stay=40))
        await until(lambda: engine.routing.call(victim), 20, "the victim talks to 1001",
                    holds=lambda call: call.get("state") == "connected")

        sipp = await asyncio.to_thread(call_in, asterisk, forged_hangup(victim), 6000)
        try:
            # The attack is real: the forged event reaches the engine's AMI connection.
            forged = await tap.wait_for(lambda m: m.get("Event") == "Hangup"
                                        and m.get("Uniqueid") == victim, timeout=20)
            assert "Channel" not in forged, forged
            hostile = await until(
                lambda: [s.line.call for s in engine.calls.sessions.values()
                         if s.line.call.channel.startswith("PJSIP/trunk")],
                20, "the SIP caller reaches the engine")
            hostile_id = hostile[0].call_id
            output, _ = await asyncio.to_thread(sipp.communicate, timeout=40)
            assert sipp.returncode == 0, output[-2000:]
        finally:
            if sipp.poll() is None:
                sipp.kill()

        # The SIP caller was served like anyone: menu, record, recording.
        record = await wait_ended(engine, hostile_id)
        assert re.fullmatch(r"[0-9+*#]*", record["caller_number"]), record["caller_number"]
        assert any("/zh/menu " in s["command"] for s in await engine.call_log.steps(hostile_id))
        entry = await until(lambda: engine.recordings.entry(hostile_id), 15,
                            "the SIP caller's recording is indexed",
                            holds=lambda e: "sha256" in e)
        assert entry["problems"] == "[]", entry

        # And nothing was forged: the victim still talks, recorded, their agent busy.
        assert (await engine.routing.call(victim))["state"] == "connected"
        assert "sha256" not in await engine.recordings.entry(victim)
        assert (await engine.routing.agent("1001"))["state"] == "on_call"
    finally:
        await engine.stop()

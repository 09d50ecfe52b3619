"""Ring, no answer: the agent is set not ready and the caller goes to the next agent."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import AgentState
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.queues.stats import served_records
from hotline.settings import Settings
from routing.replay import from_record
from tests.integration.helpers import agents_ready, engine_for, until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

CONFIG = Path(__file__).resolve().parents[1] / "data" / "config" / "live_queue.yaml"


async def test_no_answer_sets_not_ready_and_the_next_agent_gets_the_call(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = CONFIG.read_text().replace(
        '''  "1001":
    name: Zhou Min
    endpoint: Local/1001@sim-agent
    skills: {billing: 5}
''', '''  "1001":
    name: Zhou Min
    endpoint: Local/1001@sim-agent-away
    skills: {billing: 9}
  "1002":
    name: Wu Lei
    endpoint: Local/1002@sim-agent
    skills: {billing: 8}
''').replace("    name: Billing\n", "    name: Billing\n    ring_timeout: 2s\n")
    assert "sim-agent-away" in text and "ring_timeout" in text
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    try:
        await agents_ready(engine, "1001", "1002")
        caller = SimulatedCaller(caller_number="13522223333", dialled_number="180", stay=60)
        call_id = await place_call(engine.originator, caller)

        # Best proficiency first: 1001 (9) is rung, and does not answer.
        missed = await tap.wait_for(lambda m: m.get("Event") == "DialEnd"
                                    and m.get("Uniqueid") == call_id
                                    and m.get("DialStatus") != "ANSWER", timeout=20)
        assert "1001@sim-agent-away" in missed["DestChannel"]
        answered = await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                                      and m.get("Caller") == caller.caller_number, timeout=10)
        assert answered["Agent"] == "1002"
        agent = await engine.routing.agent("1001")
        assert agent["state"] == AgentState.NOT_READY.value and agent["reason"] == "no answer"
        record = await wait_ended(engine, call_id)
        assert record["outcome"].startswith("to an agent from queue billing")
        # The day's record of the caller's time in the queue, for a replay: the ring
        # 1001 let run out, and 1002's answer.
        served = await until(lambda: served_records(redis, settings.key_prefix,
                                                    engine.stats.day()), 10,
                             "the caller's time in the queue is recorded",
                             holds=lambda rs: any(r["call"] == call_id for r in rs))
        mine = from_record(next(r for r in served if r["call"] == call_id))
        assert (mine.outcome, mine.agent, mine.let_ring) == ("answered", "1002", 1)
        assert mine.waited > 2 and 0 < mine.ring < 2  # the missed ring of 2 s counts

        # One file for the whole call: the menu, the hold, the ringing, the agent's talk.
        entry = await until(lambda: engine.recordings.entry(call_id), 10,
                            "the recording is indexed", holds=lambda entry: "sha256" in entry)
        call_seconds = (int(entry["ended"]) - int(entry["started"])) / 1000
        assert call_seconds > 4  # menu, hold, a missed ring of 2 s, the agent's talk
        assert entry["problems"] == "[]" and int(entry["size"]) > 44
        assert abs(float(entry["duration"]) - call_seconds) < 2.0
        assert entry["path"].endswith(f"/{call_id}.wav") and len(entry["sha256"]) == 64
        assert (entry["queue"], entry["agent"], entry["menu_path"]) == ("billing", "1002",
                                                                         "agent")
        assert entry["caller_number"] == caller.caller_number and entry["mutes"] == "[]"
        assert await engine.recordings.alarms() == 0

        # What a supervisor sees: the list, and a verification of the file itself.
        env = {**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
               "HOTLINE_KEY_PREFIX": settings.key_prefix}
        listed = subprocess.run([sys.executable, "-m", "hotline", "recordings", "list"],
                                capture_output=True, text=True, env=env, timeout=60)
        assert call_id in listed.stdout and "  billing  1002" in listed.stdout
        verified = subprocess.run([sys.executable, "-m", "hotline", "recordings", "verify"],
                                  capture_output=True, text=True, env=env, timeout=60)
        assert verified.returncode == 0 and "1 recording(s) checked, 0 problem(s)" in \
            verified.stdout
        Path(entry["path"]).write_bytes(b"tampered")
        tampered = subprocess.run([sys.executable, "-m", "hotline", "recordings", "verify"],
                                  capture_output=True, text=True, env=env, timeout=60)
        assert tampered.returncode == 1 and "checksum differs" in tampered.stdout
    finally:
        await engine.stop()


async def test_a_phone_that_cannot_be_dialled_leaves_no_agent_reserved(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    """Dial gives up at once on a phone with nowhere to ring (never registered): no
    DialEnd comes, only the caller back in the engine, who says how the ring ended."""
    text = CONFIG.read_text().replace(
        '''  "1001":
    name: Zhou Min
    endpoint: Local/1001@sim-agent
    skills: {billing: 5}
''', '''  "1001":
    name: Zhou Min
    endpoint: PJSIP/agent-not-registered
    skills: {billing: 9}
  "1002":
    name: Wu Lei
    endpoint: Local/1002@sim-agent
    skills: {billing: 8}
''')
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    try:
        await agents_ready(engine, "1001", "1002")
        caller = SimulatedCaller(caller_number="13522224444", dialled_number="180", stay=30)
        call_id = await place_call(engine.originator, caller)
        answered = await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                                      and m.get("Caller") == caller.caller_number, timeout=20)
        assert answered["Agent"] == "1002"
        assert not [m for m in tap.events if m.get("Event") == "DialEnd"
                    and m.get("Uniqueid") == call_id
                    and "agent-not-registered" in m.get("DestChannel", "")]
        agent = await until(lambda: engine.routing.agent("1001"), 5, "1001 is not reserved",
                            holds=lambda a: a.get("state") == AgentState.NOT_READY.value)
        assert agent["reason"] == "phone unreachable" and "call" not in agent
    finally:
        await engine.stop()

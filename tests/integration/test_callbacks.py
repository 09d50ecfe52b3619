"""A served call is sampled, the customer is called back on the sandbox, presses 4, and
the grade is kept against the agent who served the call."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.settings import Settings
from tests.integration.helpers import agents_ready, engine_for, until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

CONFIG = Path(__file__).resolve().parents[1] / "data" / "config" / "live_queue.yaml"


def survey_config() -> str:
    text = CONFIG.read_text()
    for old, new in (
        ("    skills: {billing: 8}\n", "    skills: {billing: 5}\n"),
        ("  survey:\n    kind: hangup\n    prompt: bye\n",
         "  survey:\n    kind: choice\n    prompt: menu\n    keys:\n"
         + "".join(f'      "{g}": bye\n' for g in range(1, 6))
         + "  bye:\n    kind: hangup\n    prompt: bye\n"),
        ("sampling:\n  rate: 0.1\n",
         "sampling:\n  rate: 1.0\n  queues: [billing]\n  delay: 1s\n"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text + "backends:\n  callback_trunk: Local/{number}@sim-customer\n"


async def test_a_sampled_call_gets_a_callback_and_the_grade_is_kept(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    engine, tap = await engine_for(settings, redis, survey_config(), tmp_path)
    path = tmp_path / "hotline.yaml"
    try:
        await agents_ready(engine, "1001")
        caller = SimulatedCaller(caller_number="13566667777", dialled_number="180", stay=30)
        call_id = await place_call(engine.originator, caller)
        await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                           and m.get("Caller") == caller.caller_number, timeout=20)
        # The agent talks 3 s and hangs up; a second later the callback is due.
        callbacks = engine.surveys.jobs
        result = await until(lambda: callbacks.result(call_id), 40,
                             f"the survey of call {call_id} has a result")
        assert (result["grade"], result["agent"], result["queue"]) == ("4", "1001", "billing")
        assert result["number"] == caller.caller_number
        job = await callbacks.state(call_id)
        assert job["state"] == "done" and job["attempts"] == "1"
        # The same caller is not sampled again within the configured days.
        opted_out, last = await callbacks.exclusions(caller.caller_number)
        assert not opted_out and last is not None
        # The supervisor's report counts it.
        report = subprocess.run(
            [sys.executable, "-m", "hotline", "surveys", "report"], capture_output=True,
            text=True, timeout=60, env={**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
                                        "HOTLINE_KEY_PREFIX": settings.key_prefix,
                                        "HOTLINE_CONFIG": str(path)})
        assert report.returncode == 0, report.stderr
        assert "sampled 1, attempted 1 (100%), contacted 1 (100% of attempted)" in report.stdout
        assert "  1001           answers    1  average 4.00  satisfied 100%" in report.stdout
    finally:
        await engine.stop()


async def test_no_answer_is_retried_and_a_restart_neither_loses_nor_repeats_it(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = survey_config().replace(
        "  delay: 1s\n", "  delay: 1s\n  ring_for: 2s\n  retry_after: 4s\n  attempts: 2\n"
    ).replace("Local/{number}@sim-customer", "Local/{number}@sim-customer-away")
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    caller = SimulatedCaller(caller_number="13588889999", dialled_number="180", stay=30)
    try:
        await agents_ready(engine, "1001")
        call_id = await place_call(engine.originator, caller)
        callbacks = engine.surveys.jobs
        # The first attempt rings 2 s unanswered; the job waits for its retry.
        await until(lambda: callbacks.state(call_id), 40,
                    f"the first callback of call {call_id} is not answered",
                    holds=lambda job: "not answered" in job.get("reason", ""))
        first_failed_at = time.monotonic()
        assert (await callbacks.state(call_id))["state"] == "due"
    finally:
        await engine.stop()  # the engine goes away between attempts

    # A new engine process takes over.
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    try:
        callbacks = engine.surveys.jobs
        job = await until(lambda: callbacks.state(call_id), 30,
                          f"the callback of call {call_id} has failed for good",
                          holds=lambda job: job.get("state") == "failed")
        assert job["attempts"] == "2"  # the retry, once: nothing lost, nothing repeated
        assert time.monotonic() - first_failed_at >= 4 - 0.5  # the configured spacing
        rung = [m for m in tap.events if m.get("Event") == "Newchannel"
                and m.get("Uniqueid", "").startswith(f"survey-{call_id}-")]
        # This engine rang once, for the second attempt (each Local call has two halves).
        assert [m["Uniqueid"] for m in rung if ";" not in m["Uniqueid"]] == [
            f"survey-{call_id}-2"]
    finally:
        await engine.stop()


def sox_rms(path: Path) -> float:
    out = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True,
                         check=True).stderr
    return float(next(line for line in out.splitlines() if "RMS" in line and "amplitude"
                      in line).split()[-1])


async def test_a_low_grade_customer_leaves_a_spoken_comment(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = survey_config().replace(
        '      "1": bye\n', '      "1": low_grade\n'
    ).replace("  bye:\n    kind: hangup\n", """  low_grade:
    kind: choice
    prompt: menu
    keys: {"1": comment}
    retries: 0
    fallback: bye
  comment:
    kind: voice_comment
    prompt: bye
    max_length: 20s
    next: bye
  bye:
    kind: hangup
""").replace("@sim-customer\n", "@sim-customer-unhappy\n")
    assert "voice_comment" in text and "sim-customer-unhappy" in text
    engine, _tap = await engine_for(settings, redis, text, tmp_path)
    try:
        await agents_ready(engine, "1001")
        caller = SimulatedCaller(caller_number="13566660000", dialled_number="180", stay=30)
        call_id = await place_call(engine.originator, caller)
        callbacks = engine.surveys.jobs
        result = await until(lambda: callbacks.result(call_id), 60,
                             f"the survey of call {call_id} has a result")
        assert (result["grade"], result["agent"]) == ("1", "1001")
        survey = [s["command"] for s in await engine.call_log.steps(f"survey-{call_id}-1")]
        assert any(c.startswith("COMMENT STARTED ") for c in survey), survey
        comment = Path(str(settings.recordings_dir)) / result["comment"]
        assert result["comment"].startswith("comments/") and comment.exists()
        # The customer's voice (a tone here) after the beep, until # ended it.
        seconds = float(subprocess.run(["soxi", "-D", str(comment)], capture_output=True,
                                       text=True, check=True).stdout)
        assert 3 < seconds < 12, seconds
        assert sox_rms(comment) > 0.05
    finally:
        await engine.stop()


async def test_two_engines_place_each_due_callback_once(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    """Both instances run their schedulers on the same jobs; every customer is rung
    once, by one of them."""
    from dataclasses import replace

    from quality.sampling import ServedCall

    text = survey_config().replace("@sim-customer\n", "@sim-customer-away\n").replace(
        "  delay: 1s\n", "  delay: 1s\n  ring_for: 3s\n  attempts: 1\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, tap = await engine_for(replace(settings, instance_id="engine-a"), redis, text,
                                  tmp_path / "a")
    second, _ = await engine_for(replace(settings, instance_id="engine-b"), redis, text,
                                 tmp_path / "b")
    try:
        await asyncio.gather(first.surveys.stop(), second.surveys.stop())
        now = time.time()
        served = [ServedCall(f"served-{n}", f"1390000{n:04d}", "billing", "1001", now)
                  for n in range(20)]
        for call in served:  # due at once: both schedulers race for every job
            assert await first.surveys.jobs.schedule(call, now)
        first.surveys.start()
        second.surveys.start()
        callbacks = first.surveys.jobs

        async def states() -> list[dict[str, str]]:
            return [await callbacks.state(c.call_id) for c in served]

        await until(states, 60, "every callback has been tried, and failed",
                    holds=lambda jobs: all(job.get("state") == "failed" for job in jobs))
        rung = [m["Uniqueid"] for m in tap.events if m.get("Event") == "Newchannel"
                and m.get("Uniqueid", "").startswith("survey-served-")
                and ";" not in m["Uniqueid"]]
        assert sorted(rung) == sorted(f"survey-{c.call_id}-1" for c in served)
        for call in served:
            assert (await callbacks.state(call.call_id))["attempts"] == "1"
    finally:
        await asyncio.gather(first.stop(), second.stop())

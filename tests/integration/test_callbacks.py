"""A served call is sampled, the customer is called back on the sandbox, presses 4, and
the grade is kept against the agent who served the call. A caller kept in line for a
callback is called back too: the customer's leg is recorded and filed with the call."""

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
from hotline.engine import Engine
from hotline.settings import Settings
from quality.recordings import inspect
from tests.conftest import EventTap
from tests.integration.helpers import Phone, agents_ready, engine_for, until

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


# --- the customer's leg of a queue callback, recorded like any call ------------------

ROUTING = Path(__file__).resolve().parents[1] / "data" / "config" / "routing.yaml"


def callback_in_line_config(trunk: str, extra: str = "") -> str:
    """The routing tests' hotline, whose billing line offers a callback after 2 s."""
    text = ROUTING.read_text().replace("prompts:\n", """prompts:
  queue_callback_offer: {text: {zh: 如需保留排队位置并由我们回电请按1。}}
  queue_callback_confirmed: {text: {zh: 好的轮到您时我们会回电。}}
""").replace("    ring_timeout: 5s\n",
             "    ring_timeout: 5s\n    max_wait: {after: 2s, then: callback}\n", 1)
    return text + f"backends:\n  callback_trunk: Local/{{number}}@{trunk}\n" + extra


async def kept_for_a_callback(engine: Engine, tap: EventTap, number: str) -> str:
    """A caller waits past the maximum wait, takes the callback offer and hangs up;
    the recording of their call so far is indexed."""
    call_id = await place_call(engine.originator, SimulatedCaller(
        caller_number=number, dialled_number="180", stay=40))
    await until(lambda: engine.routing.call(call_id), 15, f"call {call_id} waits",
                holds=lambda fields: fields.get("state") == "waiting")
    await Phone(engine, call_id).answer("zh/queue_callback_offer", "1")
    await tap.wait_for(lambda m: m.get("Event") == "Hangup" and m.get("Uniqueid") == call_id,
                       timeout=15)
    await until(lambda: engine.recordings.entry(call_id), 15,
                f"the recording of call {call_id} until the callback offer is indexed",
                holds=lambda entry: "sha256" in entry)
    return call_id


def hotline_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hotline", *args], capture_output=True, text=True, timeout=60,
        env={**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
             "HOTLINE_KEY_PREFIX": settings.key_prefix})


@pytest.mark.parametrize("fmt", ["mixed", "stereo"])
async def test_the_customer_leg_of_a_queue_callback_is_recorded_and_indexed_with_the_call(
        settings: Settings, redis: Redis, tmp_path: Path, fmt: str) -> None:
    engine, tap = await engine_for(settings, redis, callback_in_line_config(
        "sim-customer", f"recording:\n  format: {fmt}\n"), tmp_path)
    try:
        call_id = await kept_for_a_callback(engine, tap, "13600000071")
        await agents_ready(engine, "2003")
        engine.queues.wake()
        # The customer answers, agent 2003 talks 3 s and hangs up: the conversation
        # is over, and its recording is filed.
        await tap.wait_for(lambda m: m.get("Event") == "DialEnd" and m.get("Uniqueid") == call_id
                           and m.get("DialStatus") == "ANSWER", timeout=20)
        recordings = await until(
            lambda: engine.recordings.recordings_of(call_id), 20,
            f"the callback of call {call_id} is indexed with the call's recording",
            holds=lambda entries: len(entries) == 2 and all("sha256" in e for e in entries))
        alarms = await engine.recordings.alarms()
    finally:
        await engine.stop()
    waiting, callback = recordings
    assert (waiting["call_id"], waiting.get("leg")) == (call_id, None)
    assert callback["call_id"] == call_id and callback["leg"] == "callback"
    assert callback["recording"] == f"{call_id}-callback-1"
    assert (callback["caller_number"], callback["dialled_number"]) == ("13600000071", "180")
    assert (callback["queue"], callback["agent"]) == ("billing", "2003")
    # Filed beside the call's own recording, whole and checked like it.
    path = Path(callback["path"])
    assert path.parent == Path(waiting["path"]).parent and path.name == \
        f"{call_id}-callback-1.wav"
    assert path.is_relative_to(Path(str(settings.recordings_dir)))
    facts = inspect(path)
    assert facts is not None and facts.sha256 == callback["sha256"]
    assert callback["problems"] == "[]" and callback["mutes"] == "[]" and alarms == 0
    leg_seconds = (int(callback["ended"]) - int(callback["started"])) / 1000
    assert int(callback["started"]) > int(waiting["ended"])  # from the callback's answer
    assert float(callback["duration"]) > 2.5  # the agent's 3 s are in it
    assert abs(float(callback["duration"]) - leg_seconds) < 2.0
    channels = subprocess.run(["soxi", "-c", str(path)], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert channels == ("2" if fmt == "stereo" else "1")
    assert not list(path.parents[1].glob(f"{call_id}-callback-1.*"))  # nothing left unfiled
    # What a supervisor reads: both recordings of the call, the callback marked.
    shown = hotline_cli(settings, "recordings", "show", call_id)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("sha256: ") == 2 and "leg: callback" in shown.stdout
    listed = hotline_cli(settings, "recordings", "list").stdout
    assert f"CALLBACK LEG ({call_id}-callback-1)" in listed
    assert hotline_cli(settings, "recordings", "flag", call_id).returncode == 0
    assert all(e.get("flagged") for e in await engine.recordings.recordings_of(call_id))


async def test_a_callback_nobody_answers_records_nothing_and_raises_no_alarm(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    engine, tap = await engine_for(settings, redis, callback_in_line_config(
        "sim-customer-away").replace("  rate: 0.0\n", "  rate: 0.0\n  ring_for: 2s\n"),
        tmp_path)
    try:
        call_id = await kept_for_a_callback(engine, tap, "13600000072")
        await agents_ready(engine, "2003")
        engine.queues.wake()
        # Three callbacks ring unanswered; the customer leaves the line.
        await until(lambda: engine.routing.call(call_id), 40,
                    f"call {call_id} leaves the line after three missed callbacks",
                    holds=lambda fields: fields.get("state") == "gone")
        hangups = await until(
            lambda: [m for m in tap.events if m.get("Event") == "Hangup"
                     and m.get("Uniqueid") == call_id], 10,
            "the three callbacks' channels are gone", holds=lambda found: len(found) >= 4)
        assert len(hangups) == 4  # the caller's own channel, and one per callback
        assert (await engine.routing.call(call_id))["callback_tries"] == "3"
        assert await engine.recordings.callbacks(call_id) == []
        assert [e["call_id"] for e in await engine.recordings.recordings_of(call_id)] == [
            call_id]
        assert await engine.recordings.pending(int(time.time() * 1000)) == []
        assert await engine.recordings.alarms() == 0
    finally:
        await engine.stop()
    assert not list(Path(str(settings.recordings_dir)).rglob(f"{call_id}-callback-*"))

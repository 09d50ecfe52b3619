"""Who reaches whom, on the sandbox: skills, proficiency, idle time, VIP tiers and their
guaranteed waits, wrap-up, relaxation, overflow, and callers who give up waiting.

Agents are Local channels that answer at once and talk 3 s (`sim-agent`). Every test
starts with the agents logged out and makes them ready at chosen moments, so the order
in which agents and callers meet is the routing's, not the timing's.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import Move
from hotline.billing.redis_store import RedisBilling
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from tests.conftest import EventTap
from tests.integration.helpers import engine_for, held_past, until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

ROUTING = (Path(__file__).resolve().parents[1] / "data" / "config" / "routing.yaml").read_text()
_AGENT = re.compile(r"Local/(\d+)@sim-agent")


async def ready(engine: Engine, agent_id: str, idle_since: float | None = None) -> None:
    at = time.time() if idle_since is None else idle_since
    await engine.routing.apply(agent_id, Move.LOG_IN, at)
    await engine.routing.apply(agent_id, Move.GO_READY, at)
    engine.queues.wake()


async def rung(tap: EventTap, call_id: str, timeout: float = 15) -> str:
    """The agent whose phone rang for `call_id` (its first ring)."""
    begin = await tap.wait_for(lambda m: m.get("Event") == "DialBegin"
                               and m.get("Uniqueid") == call_id, timeout=timeout)
    found = _AGENT.search(begin.get("DestChannel", ""))
    assert found, begin
    return found.group(1)


def rings_of(tap: EventTap, call_id: str) -> list[str]:
    return [m.get("DestChannel", "") for m in tap.events
            if m.get("Event") == "DialBegin" and m.get("Uniqueid") == call_id]


async def waiting(engine: Engine, call_id: str, queue: str = "billing") -> dict[str, str]:
    return await until(lambda: engine.routing.call(call_id), 15,
                       f"call {call_id} waits in {queue}",
                       holds=lambda fields: fields.get("state") == "waiting"
                       and fields.get("queue") == queue)


async def caller(engine: Engine, number: str, tier: str = "normal", dialled: str = "180",
                 stay: float = 40) -> str:
    billing = engine.billing.backend(engine.live.config)
    assert isinstance(billing, RedisBilling)
    await billing.open_account(number, 0, tier=tier)
    return await place_call(engine.originator, SimulatedCaller(
        caller_number=number, dialled_number=dialled, stay=stay))


async def test_skills_then_best_proficiency_then_longest_idle(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    engine, tap = await engine_for(settings, redis, ROUTING, tmp_path)
    try:
        now = time.time()
        for agent_id, idle_for in (("2001", 90), ("2002", 60), ("2003", 10), ("2004", 30)):
            await ready(engine, agent_id, now - idle_for)
        first = await caller(engine, "13600000001")
        assert await rung(tap, first) == "2004"  # proficiency 8, idle longer than 2003
        second = await caller(engine, "13600000002")
        assert await rung(tap, second) == "2003"  # the other 8
        third = await caller(engine, "13600000003")
        assert await rung(tap, third) == "2002"  # 6 is enough; 2001 has no billing skill
        assert not [m for m in tap.events if m.get("Event") == "DialBegin"
                    and "2001@sim-agent" in m.get("DestChannel", "")]
    finally:
        await engine.stop()


async def test_a_diamond_arriving_last_is_connected_first(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    engine, tap = await engine_for(settings, redis, ROUTING, tmp_path)
    try:
        normal = await caller(engine, "13600000011", "normal")
        await waiting(engine, normal)
        gold = await caller(engine, "13600000012", "gold")
        await waiting(engine, gold)
        diamond = await caller(engine, "13600000013", "diamond")
        await waiting(engine, diamond)
        await ready(engine, "2003")
        assert await rung(tap, diamond) == "2003"
        await ready(engine, "2004")
        assert await rung(tap, gold) == "2004"
        await ready(engine, "2002")
        assert await rung(tap, normal) == "2002"
    finally:
        await engine.stop()


async def test_a_normal_caller_past_its_guaranteed_wait_goes_before_new_vips(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = ROUTING.replace("max_wait: 10s", "max_wait: 2s").replace(
        "max_wait: 20s", "max_wait: 2s").replace("max_wait: 30s", "max_wait: 3s")
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    try:
        normal = await caller(engine, "13600000021", "normal")
        arrived = float((await waiting(engine, normal))["arrived_at"])
        await held_past(engine, normal, arrived + 3.3)  # still on hold past normal's 3 s
        diamond = await caller(engine, "13600000022", "diamond")
        await waiting(engine, diamond)
        # Nearing its 3 s promise with no agent free, the normal caller was warned about.
        starving = await engine.stats.figures(engine.stats.day(), "billing", "normal")
        assert starving.starvation_warnings == 1
        await ready(engine, "2003")
        assert await rung(tap, normal) == "2003"
        await ready(engine, "2004")
        assert await rung(tap, diamond) == "2004"
    finally:
        await engine.stop()


async def test_an_agent_in_wrap_up_is_not_offered_calls_until_it_ends(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = ROUTING.replace("skills: {billing: 8}, wrap_up: 0s}\n  \"2004\"",
                           "skills: {billing: 8}, wrap_up: 3s}\n  \"2004\"")
    assert "wrap_up: 3s" in text
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    try:
        await ready(engine, "2003")
        first = await caller(engine, "13600000031")
        assert await rung(tap, first) == "2003"
        second = await caller(engine, "13600000032")
        await waiting(engine, second)
        await tap.wait_for(lambda m: m.get("Event") == "Hangup"
                           and m.get("Uniqueid") == first, timeout=15)
        ended = time.monotonic()
        assert await rung(tap, second, timeout=10) == "2003"
        assert time.monotonic() - ended >= 2.5  # the 3 s wrap-up, less event delays
    finally:
        await engine.stop()


async def test_relaxation_widens_the_pool_at_the_configured_second(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = ROUTING.replace("    skills: {billing: 5}\n    ring_timeout: 5s\n",
                           "    skills: {billing: 9}\n    ring_timeout: 5s\n    relax:\n"
                           "      - after: 3s\n        min_proficiency: 4\n")
    assert "min_proficiency: 4" in text
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    try:
        await ready(engine, "2002")  # billing 6: not enough before the relax step
        call_id = await caller(engine, "13600000041")
        arrived = float((await waiting(engine, call_id))["arrived_at"])
        assert await rung(tap, call_id) == "2002"
        waited = time.time() - arrived
        assert 2.9 <= waited <= 4.5, waited
    finally:
        await engine.stop()


async def test_overflow_keeps_the_arrival_time(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    engine, tap = await engine_for(settings, redis, ROUTING, tmp_path)
    try:
        faults = await caller(engine, "13600000051", dialled="181")
        arrived = (await waiting(engine, faults, "faults"))["arrived_at"]
        billing = await caller(engine, "13600000052")
        await waiting(engine, billing)
        moved = await waiting(engine, faults, "billing")  # overflow after 2 s
        assert moved["arrived_at"] == arrived
        await ready(engine, "2003")
        assert await rung(tap, faults) == "2003"  # it has waited longest
        await ready(engine, "2004")
        assert await rung(tap, billing) == "2004"
    finally:
        await engine.stop()


async def test_a_caller_who_hangs_up_is_counted_abandoned_and_never_rung(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    from dataclasses import replace

    log_file = tmp_path / "queue_log"
    engine, tap = await engine_for(replace(settings, queue_log=log_file), redis, ROUTING,
                                   tmp_path)
    try:
        gone = await caller(engine, "13600000061", stay=2)
        await waiting(engine, gone)
        await until(lambda: engine.routing.call(gone), 10, f"call {gone} is gone",
                    holds=lambda fields: fields.get("state") == "gone")
        served = await caller(engine, "13600000062")
        await waiting(engine, served)
        await ready(engine, "2003")
        assert await rung(tap, served) == "2003"
        await tap.wait_for(lambda m: m.get("Event") == "Hangup"
                           and m.get("Uniqueid") == served, timeout=15)
        # The served call is accounted for to its end (its last queue_log line), and its
        # agent is free again with nobody left in line: a caller still there would be
        # offered to 2003 now. The one who hung up never was.
        await until(lambda: log_file.read_text() if log_file.exists() else "", 10,
                    f"call {served} completes in the queue_log",
                    holds=lambda text: f"|{served}|billing|Agent/2003|COMPLETECALLER|" in text)
        await until(lambda: engine.routing.agent("2003"), 10, "agent 2003 is ready again",
                    holds=lambda fields: fields.get("state") == "ready")
        assert await engine.routing.waiting("billing") == []
        assert rings_of(tap, gone) == []

        day = engine.stats.day()
        figures = await engine.stats.figures(day, "billing")
        assert (figures.offered, figures.answered, figures.abandoned) == (2, 1, 1)
        assert figures.short_abandoned == 0 and figures.handled == 1
        assert figures.service_level == 1.0 and figures.service_level_with_abandons == 0.5
        assert figures.aht is not None and 2 <= figures.aht <= 5
        normal = await engine.stats.figures(day, "billing", "normal")
        assert normal.offered == 2
        lines = [line.split("|") for line in log_file.read_text().splitlines()]
        events = [(f[1], f[4]) for f in lines]
        assert (gone, "ENTERQUEUE") in events and (gone, "ABANDON") in events
        assert [e for c, e in events if c == served] == ["ENTERQUEUE", "CONNECT",
                                                          "COMPLETECALLER"]
        connect = next(f for f in lines if f[4] == "CONNECT")
        assert connect[2] == "billing" and connect[3] == "Agent/2003"
    finally:
        await engine.stop()


async def test_waiting_callers_hear_their_place_in_line_and_expected_wait(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = ROUTING.replace("prompts:\n", """prompts:
  queue_next: {text: {zh: 您是下一位。}}
  queue_ahead_before: {text: {zh: 您前面还有}}
  queue_ahead_after: {text: {zh: 位客户在等候。}}
  queue_wait_before: {text: {zh: 预计等候时间约}}
  queue_wait_after: {text: {zh: 分钟。}}
""").replace("    ring_timeout: 5s\n", "    ring_timeout: 5s\n    announce: {every: 2s}\n", 1)
    engine, _ = await engine_for(settings, redis, text, tmp_path)
    try:
        first = await caller(engine, "13600000071")
        await waiting(engine, first)
        second = await caller(engine, "13600000072")
        await waiting(engine, second)

        async def said(call_id: str) -> list[str]:
            return [s["command"].split()[2].split("/sounds/")[-1]
                    for s in await engine.call_log.steps(call_id)
                    if s["command"].startswith("STREAM FILE") and "/zh/" in s["command"]]

        async def heard(call_id: str, count: int) -> list[str]:
            return await until(lambda: said(call_id), 15,
                               f"call {call_id} hears {count} announcement prompts",
                               holds=lambda words: len(words) >= count)

        # No agent logged in and no handle time yet: a minute per caller is assumed.
        assert (await heard(first, 4))[:4] == ["zh/queue_next", "zh/queue_wait_before",
                                               "zh/say/yi", "zh/queue_wait_after"]
        assert (await heard(second, 6))[:6] == [
            "zh/queue_ahead_before", "zh/say/yi", "zh/queue_ahead_after",
            "zh/queue_wait_before", "zh/say/er", "zh/queue_wait_after"]
        # Between announcements, hold music: started once, and kept through the waits.
        commands = [s["command"] for s in await engine.call_log.steps(second)]
        assert commands.count("SET MUSIC ON default") >= 1
        music = commands.index("SET MUSIC ON default")
        assert commands[music + 1] == "WAIT FOR DIGIT 1000"
    finally:
        await engine.stop()


async def test_a_caller_at_max_wait_keeps_their_place_and_is_called_back(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    from tests.integration.helpers import Phone

    text = ROUTING.replace("prompts:\n", """prompts:
  queue_callback_offer: {text: {zh: 如需保留排队位置并由我们回电请按1。}}
  queue_callback_confirmed: {text: {zh: 好的轮到您时我们会回电。}}
""").replace("    ring_timeout: 5s\n",
             "    ring_timeout: 5s\n    max_wait: {after: 2s, then: callback}\n", 1) \
        + "backends:\n  callback_trunk: Local/{number}@sim-customer\n"
    engine, tap = await engine_for(settings, redis, text, tmp_path)
    try:
        first = await caller(engine, "13600000081")
        await waiting(engine, first)
        await Phone(engine, first).answer("zh/queue_callback_offer", "1")
        await tap.wait_for(lambda m: m.get("Event") == "Hangup"
                           and m.get("Uniqueid") == first, timeout=15)
        kept = await engine.routing.call(first)
        assert (kept["state"], kept["callback"]) == ("waiting", "13600000081")
        second = await caller(engine, "13600000082")  # on the line, but arrived later
        await waiting(engine, second)

        await ready(engine, "2003")
        # The first caller is called back (the callback carries their call's id) and
        # put through to the agent before the caller who is still on the line.
        answered = await tap.wait_for(lambda m: m.get("Event") == "DialEnd"
                                      and m.get("Uniqueid") == first
                                      and m.get("DialStatus") == "ANSWER", timeout=20)
        assert "2003@sim-agent" in answered["DestChannel"]
        assert rings_of(tap, second) == []
        await ready(engine, "2004")
        assert await rung(tap, second) == "2004"
        record = await engine.call_log.record(first)
        assert record["outcome"].startswith("kept in queue billing for a callback")
    finally:
        await engine.stop()


async def test_a_caller_at_max_wait_can_leave_a_message(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    text = ROUTING.replace("prompts:\n", """prompts:
  queue_message: {text: {zh: 请在提示音后留言。}}
""").replace("    ring_timeout: 5s\n",
             "    ring_timeout: 5s\n    max_wait: {after: 2s, then: voicemail}\n", 1)
    engine, _ = await engine_for(settings, redis, text, tmp_path)
    try:
        call_id = await caller(engine, "13600000091", stay=7)  # talks, then hangs up
        record = await wait_ended(engine, call_id, timeout=30)
        assert record["outcome"].startswith("left a message from queue billing: messages/")
        message = Path(str(settings.recordings_dir)) / record["outcome"].split(": ")[1].split(
            " (menu")[0]
        seconds = float(subprocess.run(["soxi", "-D", str(message)], capture_output=True,
                                       text=True, check=True).stdout)
        assert seconds > 1.0, seconds
        figures = await engine.stats.figures(engine.stats.day(), "billing")
        assert (figures.offered, figures.timed_out, figures.abandoned) == (1, 1, 0)
    finally:
        await engine.stop()

"""A new config version goes live while a caller waits in a queue.

The billing queue asks proficiency 8 until a caller has waited 300 s; the only agent
has 5. The caller waits. A broken version is refused and changes nothing. Then a
version that relaxes to 3 after 2 s goes live, and the caller already waiting is put
through to the agent under the new rule, without being dropped.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import AgentState, Move
from config.loader import ConfigError
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from tests.conftest import EventTap
from tests.integration.helpers import held_past, until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

CONFIG = Path(__file__).resolve().parents[1] / "data" / "config" / "live_queue.yaml"
OLD_RULE = "    relax:\n      - after: 300s\n"
NEW_RULE = "    relax:\n      - after: 2s\n"


@pytest.fixture
async def live_hotline(settings: Settings, redis: Redis,
                       tmp_path: Path) -> AsyncIterator[tuple[Engine, EventTap]]:
    path = tmp_path / "hotline.yaml"
    path.write_text(CONFIG.read_text())
    engine = Engine(replace(settings, config_path=path), redis)
    engine.live.poll_every = 0.5
    tap = EventTap()
    engine.ami.add_raw_listener(tap)
    await engine.start()
    yield engine, tap
    await engine.stop()


async def test_a_waiting_caller_gets_the_new_relax_rule(
        live_hotline: tuple[Engine, EventTap]) -> None:
    engine, tap = live_hotline
    store, versions = engine.routing, engine.live.versions
    now = time.time()
    await store.apply("1001", Move.LOG_IN, now)
    await store.apply("1001", Move.GO_READY, now)

    caller = SimulatedCaller(caller_number="13512345678", dialled_number="180", stay=60)
    call_id = await place_call(engine.originator, caller)

    async def waiting() -> bool:
        return [c.call_id for c in await store.waiting("billing")] == [call_id]

    await until(waiting, 15, "the caller joins the billing queue")
    arrived = float((await store.call(call_id))["arrived_at"])
    # Still on hold 3 s after arriving, past the 2 s the new rule will say: the old rule
    # still asks proficiency 8.
    await held_past(engine, call_id, arrived + 3.0)
    assert await waiting()
    assert await store.agent_state("1001") is AgentState.READY

    text = CONFIG.read_text()
    with pytest.raises(ConfigError):
        await versions.activate(text.replace("    relax:\n", "    relx:\n"),
                                author="supervisor", source="typo.yaml")
    assert await versions.active_number() == 1
    assert engine.live.version == 1 and await waiting()

    await versions.activate(text.replace(OLD_RULE, NEW_RULE), author="supervisor",
                            source="hotline.yaml")
    answered = await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                                  and m.get("Caller") == caller.caller_number, timeout=15)
    assert answered["Agent"] == "1001"
    # The refused text never became a version: the good one is the second.
    assert engine.live.version == 2
    assert [(e["what"], e["version"]) for e in await versions.history()] == [
        ("activate", 1), ("activate", 2)]
    # Not dropped: the caller's channel was never hung up before the agent answered.
    assert not [m for m in tap.events if m.get("Event") == "Hangup"
                and m.get("Uniqueid") == call_id and tap.events.index(m)
                < tap.events.index(answered)]

    async def on_call() -> bool:
        return await store.agent_state("1001") is AgentState.ON_CALL

    await until(on_call, 5, "the agent is marked on call")
    record = await wait_ended(engine, call_id)
    assert record["outcome"].startswith("to an agent from queue billing")


async def test_a_removed_queue_sends_its_callers_to_the_declared_fallback(
        live_hotline: tuple[Engine, EventTap]) -> None:
    engine, _ = live_hotline
    store, versions = engine.routing, engine.live.versions
    caller = SimulatedCaller(caller_number="13587654321", dialled_number="180", stay=30)
    call_id = await place_call(engine.originator, caller)

    async def waiting() -> bool:
        return [c.call_id for c in await store.waiting("billing")] == [call_id]

    await until(waiting, 15, "the caller joins the billing queue")
    text = CONFIG.read_text()
    start = text.index("queues:\n")
    end = text.index("vip:\n")
    without_queue = (text[:start] + text[end:]).replace(
        "  agent:\n    kind: queue\n    queue: billing\n",
        "  agent:\n    kind: hangup\n    prompt: bye\n")
    await versions.activate(without_queue, author="supervisor", source="hotline.yaml")

    async def back_in_the_menu() -> bool:
        steps = await engine.call_log.steps(call_id)
        return any(s["command"].startswith("GET DATA") and "/zh/menu" in s["command"]
                   for s in steps)

    await until(back_in_the_menu, 20, "the caller reaches the queue's fallback")
    assert not await waiting()
    record = await engine.call_log.record(call_id)
    assert "ended" not in record  # still on the line, in the menu: not dropped

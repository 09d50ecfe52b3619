"""At an AMI login the lines and the agents are checked against the channels Asterisk
really has: what an engine left behind when it died is cleared, nothing live is touched."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import Move
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.settings import Settings
from routing.decide import WaitingCall
from routing.store import RoutingStore
from tests.integration.helpers import engine_for, until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

DATA = Path(__file__).resolve().parents[1] / "data"
CONFIG = (DATA / "config" / "live_queue.yaml").read_text().replace(
    "    skills: {billing: 5}\n", '''    skills: {billing: 9}
  "1002":
    name: Wu Lei
    endpoint: Local/1002@sim-agent
    skills: {billing: 9}
''')


async def test_what_a_dead_engine_left_behind_is_cleared_at_the_next_login(
        settings: Settings, redis: Redis, tmp_path: Path) -> None:
    store = RoutingStore(redis, settings.key_prefix)
    then = time.time() - 60  # a minute before this engine starts
    # A caller who hung up while no engine heard it, still in line.
    await store.join(WaitingCall("ghost-waiting", "billing", then), "PJSIP/trunk-0000dead")
    # Agent 1001 reserved for a caller who is gone; 1002 in a wrap-up whose timer died.
    for agent_id in ("1001", "1002"):
        await store.apply(agent_id, Move.LOG_IN, then)
        await store.apply(agent_id, Move.GO_READY, then)
    await store.join(WaitingCall("ghost-offered", "billing", then), "PJSIP/trunk-0000beef")
    assert (await store.reserve("1001", WaitingCall("ghost-offered", "billing", then),
                                then)).value == 1
    await store.join(WaitingCall("talked", "billing", then), "PJSIP/trunk-0000cafe")
    assert (await store.reserve("1002", WaitingCall("talked", "billing", then),
                                then)).value == 1
    await store.apply("1002", Move.ANSWER, then, call_id="talked")
    await store.apply("1002", Move.CALL_ENDED, then, call_id="talked")

    engine, _tap = await engine_for(settings, redis, CONFIG, tmp_path)
    try:
        await until(lambda: store.waiting("billing"), 10, "the ghost leaves the line",
                    holds=lambda calls: not calls)
        assert (await store.call("ghost-waiting"))["state"] == "gone"
        for agent_id in ("1001", "1002"):
            await until(lambda a=agent_id: store.agent(a), 10, f"{agent_id} is free",
                        holds=lambda agent: agent.get("state") == "ready")
        figures = await engine.stats.figures(engine.stats.day(), "billing")
        assert figures.abandoned == 1

        # A live caller is never taken for a ghost: they are served.
        caller = SimulatedCaller(caller_number="13544445555", dialled_number="180", stay=20)
        call_id = await place_call(engine.originator, caller)
        await until(lambda: engine.routing.call(call_id), 20, "the live caller is served",
                    holds=lambda call: call.get("state") == "connected")
    finally:
        await engine.stop()

"""A caller who hangs up mid-prompt: the pending command fails at once, nothing leaks."""

from __future__ import annotations

import asyncio

import pytest

from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from tests.conftest import EventTap
from tests.integration.helpers import until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]


async def test_pending_prompt_fails_with_call_gone_on_hangup(engine: Engine,
                                                            tap: EventTap) -> None:
    # The menu waits up to 5 s for a key; this caller hangs up after about 1.5 s.
    caller = SimulatedCaller(keys="", delay=0.5, stay=1.0)
    before = asyncio.all_tasks()  # the engine's own background work, this test's task
    call_id = await place_call(engine.originator, caller)
    await tap.wait_for(lambda m: m.get("Event") == "AsyncAGIExec" or (
        m.get("Event") == "Hangup" and m.get("Uniqueid") == call_id), timeout=10)
    loop = asyncio.get_running_loop()
    await tap.wait_for(lambda m: m.get("Event") == "Hangup"
                       and m.get("Uniqueid") == call_id, timeout=10)
    hung_up_at = loop.time()
    record = await wait_ended(engine, call_id, timeout=10)
    ended_after = loop.time() - hung_up_at

    assert record["outcome"].startswith("caller gone")
    steps = await engine.call_log.steps(call_id)
    assert [s["command"] for s in steps] == ["GET DATA hello 5000 1"]
    assert steps[0].get("error") or steps[0]["result"] == "-1"
    # Well before the 5 s the prompt would otherwise have waited.
    assert ended_after < 2.0
    assert not engine.calls.sessions
    assert not engine.agi.commands and not engine.agi.calls
    # Nothing the call set going is left running: every task begun since the call was
    # placed (serving it, the hangup's bookkeeping) finishes.
    await until(lambda: asyncio.all_tasks() - before, 5,
                "every task started for the call finishes", holds=lambda left: not left)

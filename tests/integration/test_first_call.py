"""A real call through the real Asterisk: keys in, prompts out, channel gone after."""

from __future__ import annotations

import asyncio

import pytest

from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from tests.conftest import EventTap
from tests.integration.helpers import wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]


async def test_callers_keys_reach_the_engine_and_are_said_back(engine: Engine,
                                                               tap: EventTap) -> None:
    callers = [
        SimulatedCaller(caller_number="13800000001", caller_name="张伟", keys="3"),
        SimulatedCaller(caller_number="13900000002", caller_name="Li Na", keys="9",
                        delay=2.0),
        SimulatedCaller(caller_number="13700000003", caller_name="Wang Fang", keys=""),
    ]
    # All three at once: each command result must be paired with its own call.
    call_ids = [await place_call(engine.originator, c) for c in callers]
    records = await asyncio.gather(*(wait_ended(engine, c) for c in call_ids))

    for caller, call_id, record in zip(callers, call_ids, records, strict=True):
        steps = await engine.call_log.steps(call_id)
        commands = [s["command"] for s in steps]
        if caller.keys:
            assert steps[0]["result"] == caller.keys
            assert commands == ["GET DATA hello 5000 1", 'STREAM FILE you-entered ""',
                                f'SAY DIGITS {caller.keys} ""', 'STREAM FILE goodbye ""',
                                "HANGUP"]
        else:
            assert steps[0]["result"] == "" and steps[0]["data"] == "timeout"
            assert commands == ["GET DATA hello 5000 1", 'STREAM FILE vm-sorry ""',
                                'STREAM FILE goodbye ""', "HANGUP"]
        assert record["caller_number"] == caller.caller_number
        assert record["caller_name"] == caller.caller_name
        assert record["dialled_number"] == "10000"
        assert record["outcome"] == "served"

    for call_id in call_ids:
        await tap.wait_for(lambda m, c=call_id: m.get("Event") == "Hangup"
                           and m.get("Uniqueid") == c, timeout=10)
    channels = await engine.ami.send_action({"Action": "CoreShowChannels"})
    assert not {e.get("Uniqueid") for e in channels.events} & set(call_ids)
    assert not engine.calls.sessions and not engine.agi.commands

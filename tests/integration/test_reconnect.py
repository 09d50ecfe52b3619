"""AMI drops (kicked by Asterisk, or Asterisk restarted): the engine comes back by itself."""

from __future__ import annotations

import asyncio

import pytest

from hotline.dev import sandbox
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from tests.integration.helpers import until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]


def kick_engine_sessions(box: sandbox.SandboxInstance) -> int:
    """`manager kick session` for every AMI session of the engine's user."""
    kicked = 0
    for row in box.cli("manager show connected").splitlines():
        cols = row.split()
        if cols and cols[0] == box.ami.username and len(cols) > 4 and cols[4].isdigit():
            box.cli(f"manager kick session {cols[4]}")
            kicked += 1
    return kicked


async def wait_logins(engine: Engine, count: int, timeout: float) -> None:
    await until(lambda: engine.ami.logins, timeout, f"the engine logs in ({count} logins)",
                holds=lambda logins: logins >= count)


async def test_engine_reconnects_after_being_kicked_and_serves_next_call(
        engine: Engine, asterisk: sandbox.SandboxInstance) -> None:
    logins = engine.ami.logins
    assert kick_engine_sessions(asterisk) >= 1
    await wait_logins(engine, logins + 1, timeout=15)

    call_id = await place_call(engine.originator, SimulatedCaller(keys="4"))
    record = await wait_ended(engine, call_id)
    steps = await engine.call_log.steps(call_id)
    assert record["outcome"] == "served"
    assert steps[0]["result"] == "4"


async def test_caller_in_a_menu_when_ami_drops_is_served_on_after_the_reconnect(
        engine: Engine, asterisk: sandbox.SandboxInstance) -> None:
    caller = SimulatedCaller(caller_number="13600000066", keys="", delay=30, stay=30)
    call_id = await place_call(engine.originator, caller)
    await until(lambda: engine.agi.commands, 10, "the welcome prompt waits for a key")
    logins = engine.ami.logins
    kick_engine_sessions(asterisk)

    record = await wait_ended(engine, call_id)
    assert "lost Asterisk" in record["outcome"]
    await wait_logins(engine, logins + 1, timeout=15)
    # After the reconnect the engine finds the caller still in AGI and serves them on:
    # the menu asks again, to its end.
    record = await until(lambda: engine.call_log.record(call_id), 20,
                         "the caller is served after the reconnect",
                         holds=lambda r: r.get("outcome") == "served")
    commands = [s["command"] for s in await engine.call_log.steps(call_id)]
    asked = [n for n, c in enumerate(commands) if c.startswith("GET DATA")]
    assert len(asked) == 2, commands  # before the drop, and again after it
    assert "error" not in (await engine.call_log.steps(call_id))[asked[1]]
    await engine.ami.send_action({"Action": "Hangup", "Channel": record["channel"]},
                                 check=False)


async def test_engine_survives_an_asterisk_restart(
        engine: Engine, asterisk: sandbox.SandboxInstance) -> None:
    logins = engine.ami.logins
    await asyncio.to_thread(asterisk.restart)
    await wait_logins(engine, logins + 1, timeout=30)

    call_id = await place_call(engine.originator, SimulatedCaller(keys="8"))
    record = await wait_ended(engine, call_id)
    assert record["outcome"] == "served"
    assert (await engine.call_log.steps(call_id))[0]["result"] == "8"

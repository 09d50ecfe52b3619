"""A hostile caller ID carrying CR/LF never becomes an AMI action of its own."""

from __future__ import annotations

import asyncio
import socket

import pytest

from hotline.dev import sandbox
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from tests.conftest import EventTap
from tests.integration.helpers import until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

# If this ever reaches AMI raw, Asterisk runs an Originate into the sim-canary context,
# which announces itself with UserEvent(HotlineCanary).
PAYLOAD = ("Mallory\r\n\r\nAction: Originate\r\nChannel: Local/s@sim-canary\r\n"
           "Application: Wait\r\nData: 1")


def is_canary(msg: dict[str, str]) -> bool:
    return msg.get("UserEvent") == "HotlineCanary"


def send_raw(box: sandbox.SandboxInstance, text: str) -> socket.socket:
    """A session of its own that logs in and writes `text` as it is; left open (Asterisk
    drops what a closed session has not run yet)."""
    sock = socket.create_connection((box.ami.host, box.ami.port), timeout=5)
    sock.sendall(f"Action: Login\r\nUsername: {box.ami.username}\r\n"
                 f"Secret: {box.ami.secret}\r\n\r\n{text}".encode())
    return sock


async def test_the_canary_catches_an_unsanitised_header(
        engine: Engine, asterisk: sandbox.SandboxInstance, tap: EventTap) -> None:
    """Control: the same payload written raw does inject, so the next test can fail."""
    raw = f"Action: Setvar\r\nVariable: X\r\nValue: {PAYLOAD}\r\n\r\n"
    sock = await asyncio.to_thread(send_raw, asterisk, raw)
    try:
        await tap.wait_for(is_canary, timeout=10)
    finally:
        sock.close()


async def test_hostile_caller_name_reaches_no_action(
        engine: Engine, tap: EventTap) -> None:
    caller = SimulatedCaller(caller_name=PAYLOAD, keys="", delay=3, stay=2)
    call_id = await place_call(engine.originator, caller, hostile_name=True)
    # Caller details are set; the prompt is running.
    await until(lambda: engine.agi.commands, 10, "the engine's first prompt plays")
    channel = next(s.line.call.channel for s in engine.calls.sessions.values()
                   if s.line.call.call_id == call_id)
    # The engine's own path: the caller's name into a Setvar for the screen pop.
    engine_set = await engine.ami.send_action({"Action": "Getvar", "Channel": channel,
                                               "Variable": "HOTLINE_CALLER_NAME"})
    # The adapter itself, handed the raw name with its CR/LF intact.
    await engine.ami.send_action({"Action": "Setvar", "Channel": channel,
                                  "Variable": "HOTLINE_RAW_NAME", "Value": PAYLOAD})
    raw_set = await engine.ami.send_action({"Action": "Getvar", "Channel": channel,
                                            "Variable": "HOTLINE_RAW_NAME"})
    record = await wait_ended(engine, call_id)
    # Asterisk runs one session's actions in order, and an injected Originate (not async)
    # returns only once its channel is gone: a canary of our own, sent now on the same
    # session, sings after any injected one would have. Ours has sung when its Originate
    # fails (the canary hangs up without answering, right after its UserEvent).
    ours = await engine.ami.send_action({"Action": "Originate", "Channel": "Local/s@sim-canary",
                                         "Application": "Wait", "Data": "1", "Async": "true"})
    await tap.wait_for(lambda m: m.get("Event") == "OriginateResponse"
                       and m.get("ActionID") == ours.fields["ActionID"], timeout=10)
    # The canary's UserEvent and the Originate's answer travel apart inside Asterisk and
    # may come in either order: the answer says ours has run, its event that it sang.
    await tap.wait_for(is_canary, timeout=5)

    assert "Action: Originate" in record["caller_name"]  # the name did reach the engine
    for value in (engine_set.fields["Value"], raw_set.fields["Value"]):
        assert "\r" not in value and "\n" not in value
        assert "Action: Originate" in value  # kept, as text on one line
    assert len([m for m in tap.events if is_canary(m)]) == 1  # ours, and no other

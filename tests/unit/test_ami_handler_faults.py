"""An exception while handling one AMI event stays with that event: the session, and
every call on it, goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, cast

import pytest

from pbx.ami import AmiConnection, AmiSettings, _Protocol
from pbx.events import CallHungUp, PbxEvent


class _Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True


def _event(name: str, **fields: str) -> bytes:
    lines = [f"Event: {name}", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_a_handler_that_raises_does_not_drop_the_session(
        caplog: pytest.LogCaptureFixture) -> None:
    handled: list[PbxEvent] = []

    def handler(event: PbxEvent) -> None:
        if isinstance(event, CallHungUp) and event.call_id == "bad.1":
            raise ValueError("a malformed field")
        handled.append(event)

    connection = AmiConnection(AmiSettings(), handler)
    protocol = _Protocol()
    transport = _Transport()
    protocol.connection_made(transport)
    protocol.attach(connection)
    protocol.data_received(b"Asterisk Call Manager/9.0.0\r\n"
                           + _event("Hangup", Channel="PJSIP/a-1", Uniqueid="bad.1")
                           + _event("Hangup", Channel="PJSIP/b-2", Uniqueid="good.2"))
    assert [e.call_id for e in handled if isinstance(e, CallHungUp)] == ["good.2"]
    assert connection.handler_failures == 1
    assert not transport.closed and not protocol.closed
    assert "AMI event Hangup (bad.1) not handled" in caplog.text


async def test_a_line_leaving_agi_is_hung_up_unless_the_engine_moved_it() -> None:
    from pbx.agi_call import AgiCalls
    from pbx.ami import ConnectionState
    from pbx.ports import Call, CallGone

    connection = AmiConnection(AmiSettings(), lambda _event: None)
    protocol = _Protocol()
    protocol.connection_made(_Transport())
    protocol.attach(connection)
    connection._protocol, connection.state = protocol, ConnectionState.UP
    calls = AgiCalls(connection)
    hung_up = calls.open(Call("1.1", "PJSIP/trunk-1", "1390", "", "10000"))
    moved = calls.open(Call("1.2", "PJSIP/trunk-2", "1391", "", "10000"))
    answer = connection.start_action({"Action": "Redirect", "Channel": "PJSIP/trunk-2",
                                      "Context": "hotline-connect", "Exten": "15-1001",
                                      "Priority": 1})
    cast(Coroutine[Any, Any, Any], answer).close()  # no Asterisk here to answer it
    calls.left_agi("PJSIP/trunk-1")
    calls.left_agi("PJSIP/trunk-2")
    # What the caller's journal says of the step in flight when the line left.
    with pytest.raises(CallGone, match=r"^hung up$"):
        await hung_up.play("hello")
    with pytest.raises(CallGone, match=r"^sent on by the engine$"):
        await moved.play("hello")


async def test_events_without_a_typed_event_still_reach_their_action_and_raw_listeners(
        ) -> None:
    """Events nobody would hear are skipped unparsed; these have someone to hear them."""
    from pbx.ami import ConnectionState

    handled: list[PbxEvent] = []
    connection = AmiConnection(AmiSettings(), handled.append)
    protocol = _Protocol()
    protocol.connection_made(_Transport())
    protocol.attach(connection)
    connection._protocol, connection.state = protocol, ConnectionState.UP
    answer = connection.start_action({"Action": "CoreShowChannels"})
    action_id = next(iter(connection._pending))
    heard: list[str] = []
    protocol.data_received(
        b"Asterisk Call Manager/9.0.0\r\n"
        + _event("Newexten", Channel="PJSIP/a-1")  # nobody listens: dropped
        + f"Response: Success\r\nActionID: {action_id}\r\nEventList: start\r\n\r\n".encode()
        + _event("CoreShowChannel", ActionID=action_id, Channel="PJSIP/a-1")
        + _event("CoreShowChannelsComplete", ActionID=action_id, EventList="Complete"))
    response = await answer
    assert [item["Channel"] for item in response.events] == ["PJSIP/a-1"]
    connection.add_raw_listener(lambda msg: heard.append(msg["Event"]))
    protocol.data_received(_event("Newexten", Channel="PJSIP/a-1")
                           + _event("Hangup", Channel="PJSIP/a-1", Uniqueid="1.1"))
    assert heard == ["Newexten", "Hangup"]
    assert [type(e) for e in handled] == [CallHungUp]

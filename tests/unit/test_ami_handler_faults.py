"""An exception while handling one AMI event stays with that event: the session, and
every call on it, goes on."""

from __future__ import annotations

import asyncio

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

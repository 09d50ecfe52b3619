"""What an AMI action is, apart from the connection that carries it: the settings of a
session, the answer to an action (with the items of an EventList), the ways an action
fails, and an action waiting for its answer."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from enum import Enum

from pbx.ami_codec import Message


class AmiError(Exception):
    """An AMI action did not do what was asked."""


class AmiDisconnected(AmiError):
    """There is no logged-in connection, or it dropped while the action was pending."""


class AmiTimeout(AmiError):
    """Asterisk did not answer the action in time."""


# How Asterisk words "that channel is not there" across actions.
_NO_CHANNEL = re.compile(r"no such channel|does not exist|not found|channel not specified",
                         re.IGNORECASE)


class AmiActionFailed(AmiError):
    """Asterisk answered `Response: Error`."""

    def __init__(self, action: str, message: str) -> None:
        super().__init__(f"{action}: {message}")
        self.message = message

    @property
    def no_such_channel(self) -> bool:
        """The action named a channel that is gone (hung up meanwhile)."""
        return bool(_NO_CHANNEL.search(self.message))


@dataclass(frozen=True, slots=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "hotline"
    secret: str = field(default="", repr=False)
    action_timeout: float = 5.0
    ping_interval: float = 5.0
    reconnect_min: float = 0.2
    reconnect_max: float = 10.0


@dataclass(frozen=True, slots=True)
class AmiResponse:
    """The answer to an action; `events` are the list items of an EventList action."""

    fields: Message
    events: tuple[Message, ...] = ()

    @property
    def ok(self) -> bool:
        return self.fields.get("Response") in ("Success", "Follows", "Goodbye")

    @property
    def message(self) -> str:
        return self.fields.get("Message", "")


class ConnectionState(Enum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    CLOSED = "closed"


class PendingAction:
    """An action waiting for its answer: one Response, or a Response that starts an
    EventList plus its items up to the event that says `EventList: Complete`."""

    __slots__ = ("future", "items", "response")

    def __init__(self, future: asyncio.Future[AmiResponse]) -> None:
        self.future = future
        self.response: Message | None = None
        self.items: list[Message] = []

    def add(self, msg: Message) -> bool:
        """Take one message; True once the action is complete."""
        if self.response is None:
            self.response = msg
            if msg.get("EventList", "").lower() != "start":
                self._finish()
                return True
            return False
        if msg.get("EventList", "").lower() == "complete":
            self._finish()
            return True
        self.items.append(msg)
        return False

    def _finish(self) -> None:
        if not self.future.done() and self.response is not None:
            self.future.set_result(AmiResponse(self.response, tuple(self.items)))

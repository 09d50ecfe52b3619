"""One AMI connection per Asterisk: login, reconnect with backoff, actions with timeouts.

panoramisk supplies the connection itself (`Manager.connect`, `AMIProtocol`). The parts
that are wrong for Asterisk 22 or for a hotline (see the project's Asterisk notes) are
replaced here:
- bytes are decoded whole messages at a time (`AmiDecoder`), so UTF-8 names survive;
- every action has a timeout and completes by `EventList` (no "Added ... to queue" hang);
- actions pending when the connection drops fail at once and are never re-sent
  (a re-sent Originate would ring a customer twice);
- pings are answered or the connection is dropped, so a half-open socket is noticed;
- events go straight to one handler as our own typed events, without pattern matching;
  an event nobody would hear (no typed event, no raw listener) is not even parsed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol

from pbx.ami_actions import (
    AmiActionFailed,
    AmiDisconnected,
    AmiError,
    AmiResponse,
    AmiSettings,
    AmiTimeout,
    ConnectionState,
    PendingAction,
)
from pbx.ami_codec import ActionFields, AmiDecoder, Message, encode_action, parse_message
from pbx.events import TRANSLATED, AmiConnected, AmiLost, PbxEvent, translate

log = logging.getLogger(__name__)

# The names the rest of the engine imports from here.
__all__ = ["AmiActionFailed", "AmiConnection", "AmiDisconnected", "AmiError", "AmiResponse",
           "AmiSettings", "AmiTimeout", "ConnectionState"]


class _Protocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol with our decoder; it only moves bytes and messages."""

    closed: bool

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.decoder = AmiDecoder()
        self.owner: AmiConnection | None = None
        self._early: list[str] = []

    def attach(self, owner: AmiConnection) -> None:
        self.owner = owner
        early, self._early = self._early, []
        owner._blocks(early)

    def data_received(self, data: bytes) -> None:
        blocks = self.decoder.blocks(data)
        if self.owner is None:
            self._early += blocks
        else:
            self.owner._blocks(blocks)

    def write(self, data: bytes) -> None:
        self.transport.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed:
            self.closed = True
            if self.owner is not None:
                self.owner._lost(self, str(exc) if exc else "closed by Asterisk")

    def close(self) -> None:
        if not self.closed:
            self.transport.close()


class _Manager(Manager):  # type: ignore[misc]
    """panoramisk's Manager, used for connecting; the rest is AmiConnection's."""

    def __init__(self, owner: AmiConnection, **config: Any) -> None:
        super().__init__(**config)
        self.owner = owner

    def connection_made(self, future: asyncio.Future[Any]) -> None:
        self.owner._connected(future)


class AmiConnection:
    """The engine's single AMI session with one Asterisk."""

    def __init__(self, settings: AmiSettings, on_event: Callable[[PbxEvent], None]) -> None:
        self.settings = settings
        self.state = ConnectionState.DOWN
        self.logins = 0
        self.handler_failures = 0  # events whose handling raised (logged, contained)
        # Channels this session sent elsewhere with a Redirect, until they leave AGI: a
        # channel leaving AGI otherwise has hung up.
        self._moved: OrderedDict[str, None] = OrderedDict()
        self._on_event = on_event
        self._raw_listeners: list[Callable[[Message], None]] = []
        self._pending: dict[str, PendingAction] = {}
        self._ids = itertools.count(1)
        self.id_prefix = f"hl-{os.getpid()}-{id(self) & 0xFFFF:x}"
        self._protocol: _Protocol | None = None
        self._manager: _Manager | None = None
        self._backoff = settings.reconnect_min
        self._tasks: set[asyncio.Task[Any]] = set()
        self._up = asyncio.Event()

    # --- life cycle -----------------------------------------------------------------

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._manager = _Manager(
            self, host=self.settings.host, port=self.settings.port, loop=loop,
            protocol_factory=_Protocol, ping_delay=3600, reconnect_timeout=1)
        self._connect()

    async def wait_up(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            raise AmiDisconnected(
                f"no AMI session with {self.settings.host}:{self.settings.port} "
                f"after {timeout:.0f}s (state: {self.state.value})") from None

    async def close(self) -> None:
        self.state = ConnectionState.CLOSED
        self._up.clear()
        for task in list(self._tasks):
            task.cancel()
        if self._protocol is not None:
            self._protocol.close()
            self._protocol = None
        self._fail_pending("connection closed by the engine")

    def moved_by_us(self, channel: str) -> bool:
        """Whether this session redirected `channel` (asked once, as it leaves AGI)."""
        return self._moved.pop(channel, 0) is None

    def add_raw_listener(self, listener: Callable[[Message], None]) -> None:
        """Every AMI event as it came, for tests and tools (not for domain logic)."""
        self._raw_listeners.append(listener)

    def remove_raw_listener(self, listener: Callable[[Message], None]) -> None:
        self._raw_listeners.remove(listener)

    def drop(self) -> None:
        """Cut the TCP connection as a network fault would (tests, operators)."""
        if self._protocol is not None:
            self._protocol.transport.abort()

    # --- actions --------------------------------------------------------------------

    async def send_action(self, fields: ActionFields, *, timeout: float | None = None,
                          check: bool = True) -> AmiResponse:
        """Send one action and wait for its answer.

        Raises AmiDisconnected without a session, AmiTimeout, and (with `check`)
        AmiActionFailed when Asterisk answers with an error.
        """
        return await self.start_action(fields, timeout=timeout, check=check)

    def start_action(self, fields: ActionFields, *, timeout: float | None = None,
                     check: bool = True) -> Awaitable[AmiResponse]:
        """Write the action now and return its answer to await: for a caller that must
        not yield before the action is on the wire (connecting a caller to an agent).
        Raises AmiDisconnected at once without a session."""
        protocol = self._protocol
        if protocol is None or (self.state is not ConnectionState.UP
                                and fields.get("Action") != "Login"):
            raise AmiDisconnected(f"{fields.get('Action')}: no AMI session")
        if fields.get("Action") == "Redirect":
            self._moved[str(fields.get("Channel", ""))] = None
            while len(self._moved) > 1000:  # channels never heard of again
                self._moved.popitem(last=False)
        action_id = f"{self.id_prefix}-{next(self._ids)}"
        future: asyncio.Future[AmiResponse] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = PendingAction(future)
        protocol.write(encode_action({**fields, "ActionID": action_id}))
        return self._answer(fields, action_id, future, timeout, check)

    async def _answer(self, fields: ActionFields, action_id: str,
                      future: asyncio.Future[AmiResponse], timeout: float | None,
                      check: bool) -> AmiResponse:
        try:
            response = await asyncio.wait_for(
                future, timeout if timeout is not None else self.settings.action_timeout)
        except TimeoutError:
            raise AmiTimeout(f"{fields.get('Action')}: no answer from Asterisk") from None
        finally:
            self._pending.pop(action_id, None)
        if check and not response.ok:
            raise AmiActionFailed(str(fields.get("Action")), response.message)
        return response

    # --- called by the protocol -----------------------------------------------------

    def _blocks(self, blocks: list[str]) -> None:
        """Messages as the decoder cut them; most events of a busy Asterisk (Newexten,
        VarSet, AGIExecStart, ...) have no typed event and no one to hear them, and cost
        only a look at their first line."""
        listeners = self._raw_listeners
        for block in blocks:
            # Asterisk writes Event first; any other shape is parsed in full.
            if not listeners and block.startswith("Event: "):
                line_end = block.find("\r\n")
                name = block[7:line_end] if line_end >= 0 else block[7:]
                # An event answering one of our actions (EventList) goes to that action.
                if name not in TRANSLATED and not (self._pending and "ActionID:" in block):
                    continue
            msg = parse_message(block)
            if msg:
                self._message(msg)

    def _message(self, msg: Message) -> None:
        action_id = msg.get("ActionID")
        if action_id is not None:
            pending = self._pending.get(action_id)
            if pending is not None:
                if pending.add(msg):
                    del self._pending[action_id]
                return
        if "Event" in msg:
            # Called from the transport's data_received: an exception escaping here
            # would be a fatal transport error, dropping the session and every call on
            # it. A handler's failure stays with its event.
            try:
                event = translate(msg)
                if event is not None:
                    self._on_event(event)
                for listener in self._raw_listeners:
                    listener(msg)
            except Exception:
                self.handler_failures += 1
                log.exception("AMI event %s (%s) not handled; the session goes on",
                              msg.get("Event"), msg.get("Uniqueid", "-"))

    def _connected(self, future: asyncio.Future[Any]) -> None:
        if self.state is ConnectionState.CLOSED:
            return
        try:
            _transport, protocol = future.result()
        except OSError as exc:
            log.warning("AMI %s:%s unreachable (%s); retrying in %.1fs",
                        self.settings.host, self.settings.port, exc, self._backoff)
            self._schedule_reconnect()
            return
        self._protocol = protocol
        protocol.attach(self)
        self._spawn(self._login(protocol))

    def _lost(self, protocol: _Protocol, reason: str) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        was_up = self.state is ConnectionState.UP
        self._up.clear()
        self._fail_pending(f"AMI connection lost: {reason}")
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.DOWN
        if was_up:
            log.warning("AMI connection lost (%s); reconnecting", reason)
            self._on_event(AmiLost(reason))
        self._schedule_reconnect()

    # --- internals ------------------------------------------------------------------

    def _connect(self) -> None:
        self.state = ConnectionState.CONNECTING
        assert self._manager is not None
        self._manager.connect()

    def _schedule_reconnect(self) -> None:
        delay = self._backoff
        self._backoff = min(self._backoff * 2, self.settings.reconnect_max)
        asyncio.get_running_loop().call_later(delay, self._reconnect)

    def _reconnect(self) -> None:
        if self.state is not ConnectionState.CLOSED and self._protocol is None:
            self._connect()

    async def _login(self, protocol: _Protocol) -> None:
        try:
            await self.send_action({
                "Action": "Login", "Username": self.settings.username,
                "Secret": self.settings.secret, "Events": "on"})
        except AmiActionFailed as exc:
            log.error("AMI refused the login of user %r (%s): check the AMI user and "
                      "secret settings against manager.conf", self.settings.username,
                      exc.message)
            self._backoff = self.settings.reconnect_max
            protocol.close()
            return
        except AmiError as exc:
            log.warning("AMI login did not complete: %s", exc)
            protocol.close()
            return
        self.state = ConnectionState.UP
        self._backoff = self.settings.reconnect_min
        reconnect = self.logins > 0
        self.logins += 1
        self._up.set()
        log.info("AMI session up with %s:%s%s", self.settings.host, self.settings.port,
                 " (reconnected)" if reconnect else "")
        self._on_event(AmiConnected(reconnect=reconnect))
        self._spawn(self._keepalive(protocol))

    async def _keepalive(self, protocol: _Protocol) -> None:
        """A ping must be answered; otherwise the socket is half-open: drop it."""
        while self._protocol is protocol:
            await asyncio.sleep(self.settings.ping_interval)
            try:
                await self.send_action({"Action": "Ping"}, timeout=self.settings.ping_interval)
            except AmiTimeout:
                log.warning("AMI ping unanswered; dropping the connection")
                protocol.transport.abort()
                return
            except AmiDisconnected:
                return

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for item in pending.values():
            if not item.future.done():
                item.future.set_exception(AmiDisconnected(reason))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(
            coro, name=getattr(coro, "__qualname__", "background work"))
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("AMI %s failed: %s", task.get_name(), exc, exc_info=exc)

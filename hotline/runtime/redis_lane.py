"""One shared, pipelined connection for the engine's short Redis commands.

redis-py's asyncio client spends 100-140 µs of CPU on every command (a pooled
connection borrowed and returned under a condition, a health check of the socket,
retry and observability wrappers) where the round trip itself costs Redis 2 µs. At
about 40 commands per call that was most of the engine's CPU per call. Here a command
is packed by hiredis, written to one connection that every task shares, and its reply
matched to it by order: replies come back in the order the commands were sent.

Only commands that answer at once take the lane. Anything that blocks (BLPOP, XREAD
with BLOCK, WAIT), changes the connection's state (MULTI, WATCH, SELECT, SUBSCRIBE) or
needs undecoded bytes goes the ordinary way, through redis-py's pool, and so do
pipelines: `LaneRedis.execute_command` decides. Behaviour is kept as redis-py's:
the same reply parsing (its response callbacks), the same exception classes, the same
retry of a dropped or timed-out connection (the client's `Retry`, counted for
/metrics), so a Redis restart or a Sentinel failover is ridden out the same way.
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from typing import Any

import hiredis
from redis._parsers.base import BaseParser
from redis.asyncio import Redis, SSLConnection
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import SentinelConnectionPool
from redis.exceptions import (
    AuthenticationError,
    ConnectionError,
    InvalidResponse,
    ReadOnlyError,
    RedisError,
    ResponseError,
)
from redis.exceptions import (
    TimeoutError as RedisTimeoutError,
)
from redis.utils import DEFAULT_RESP_VERSION

__all__ = ["Lane", "LaneRedis", "takes_lane"]

# Commands that would hold the shared connection (they block, or answer more than
# once) or change its state for every later command on it.
_NOT_ON_LANE = frozenset({
    "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BLMPOP", "BZPOPMIN", "BZPOPMAX", "BZMPOP",
    "XREAD", "XREADGROUP", "WAIT", "WAITAOF", "MONITOR", "SUBSCRIBE", "PSUBSCRIBE",
    "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MULTI", "EXEC",
    "DISCARD", "WATCH", "UNWATCH", "SELECT", "AUTH", "HELLO", "RESET", "QUIT", "CLIENT",
    "SYNC", "PSYNC", "REPLICAOF", "SLAVEOF", "SHUTDOWN", "DEBUG", "FAILOVER",
})
_OPTIONS_OFF_LANE = ("NEVER_DECODE",)


def takes_lane(command_name: str, options: dict[str, Any]) -> bool:
    """Whether a command may share the lane: it answers at once, leaves the connection
    as it was, and wants its reply decoded."""
    return command_name.split(" ", 1)[0].upper() not in _NOT_ON_LANE and not any(
        option in options for option in _OPTIONS_OFF_LANE)


class _Protocol(asyncio.Protocol):
    """The connection: commands out, replies matched to their futures in order."""

    def __init__(self, encoding: str | None) -> None:
        kwargs: dict[str, Any] = {"protocolError": InvalidResponse,
                                  "replyError": BaseParser.parse_error}
        if encoding:
            kwargs["encoding"] = encoding
        self._reader = hiredis.Reader(**kwargs)
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None
        self.replies = 0  # replies read so far: the watchdog's sign of life
        self.timed_out = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, packed: bytes) -> asyncio.Future[Any]:
        assert self.transport is not None
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.write(packed)
        return future

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        waiting = self.waiting
        while True:
            try:
                reply = self._reader.gets()
            except InvalidResponse as exc:
                self._fail(ConnectionError(f"Redis sent what is not RESP: {exc}"))
                return
            if reply is False:
                return
            if isinstance(reply, hiredis.PushNotification):
                continue  # RESP3 out-of-band news (none is asked for): not a reply
            self.replies += 1
            if not waiting:  # a reply nobody asked for: the order is lost
                self._fail(ConnectionError("Redis answered a command never sent"))
                return
            future = waiting.popleft()
            if not future.done():  # its caller was cancelled; the reply is dropped
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.timed_out:
            error: Exception = RedisTimeoutError("Timeout reading from Redis")
        else:
            error = ConnectionError(f"Connection to Redis lost: {exc or 'closed by the server'}")
        self._fail(error)

    def _fail(self, error: Exception) -> None:
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self.transport is not None:
            self.transport.abort()


class Lane:
    """The shared connection of one client: opened on first use (and again after a
    loss) to where the client's pool connects, a Sentinel's current master included,
    with the pool's credentials, database and timeouts."""

    def __init__(self, pool: Any) -> None:
        kwargs = pool.connection_kwargs
        self._pool = pool
        self._kwargs = kwargs
        self._encoding: str | None = kwargs.get("encoding", "utf-8") if kwargs.get(
            "decode_responses") else None
        self._timeout: float = kwargs.get("socket_timeout") or 5.0
        self._connect_timeout: float = kwargs.get("socket_connect_timeout") or self._timeout
        self._protocol: _Protocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Future[_Protocol] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._replies_at_arm = 0
        self._armed_for: _Protocol | None = None  # the connection the watchdog counts
        self.through_sentinel = isinstance(pool, SentinelConnectionPool)

    async def call(self, packed: bytes) -> Any:
        """One command's reply as Redis sent it (an error reply as its exception,
        not raised). Raises ConnectionError or TimeoutError when the connection fails."""
        protocol = self._protocol
        if protocol is None or protocol.transport is None or (
                self._loop is not asyncio.get_running_loop()):
            protocol = await self._open()
        future = protocol.send(packed)
        if self._watchdog is None:
            self._arm(protocol)
        return await future

    def reset(self) -> None:
        """Drop the connection (after a failover, a timeout): the next command opens a
        new one."""
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.abort()

    def close(self) -> None:
        self.reset()
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _arm(self, protocol: _Protocol) -> None:
        self._armed_for = protocol
        self._replies_at_arm = protocol.replies
        self._watchdog = asyncio.get_running_loop().call_later(self._timeout, self._look)

    def _look(self) -> None:
        """A command has waited a whole timeout with no reply read since the last look:
        the connection is stuck, so every command on it fails with a timeout (and is
        retried on a new one), as redis-py's socket timeout would."""
        self._watchdog = None
        protocol = self._protocol
        if protocol is None or not protocol.waiting or protocol.transport is None:
            return
        if protocol is not self._armed_for:
            # Armed for a connection since lost: this one's count starts afresh, so
            # it gets a whole timeout of its own before it is judged stuck.
            self._arm(protocol)
            return
        if protocol.replies == self._replies_at_arm:
            protocol.timed_out = True
            protocol.transport.abort()
            return
        self._arm(protocol)

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        if self._opening is not None and self._loop is loop and not self._opening.done():
            return await asyncio.shield(self._opening)
        self._loop = loop
        self._opening = loop.create_future()
        try:
            protocol = await self._connect()
        except BaseException as exc:
            self._opening.set_exception(exc if isinstance(exc, Exception) else ConnectionError(
                "the task opening the connection to Redis was cancelled"))
            self._opening.exception()  # read: nobody else may be waiting
            self._opening = None
            raise
        self._protocol = protocol
        self._opening.set_result(protocol)
        return protocol

    async def _connect(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        kwargs = self._kwargs
        if self.through_sentinel:
            host, port = await self._pool.get_master_address()
            where: tuple[str, int] | str = (host, port)
        elif "path" in kwargs:
            where = kwargs["path"]
        else:
            where = (kwargs.get("host", "localhost"), kwargs.get("port", 6379))
        try:
            async with asyncio.timeout(self._connect_timeout):
                if isinstance(where, str):
                    _, protocol = await loop.create_unix_connection(
                        lambda: _Protocol(self._encoding), where)
                else:
                    _, protocol = await loop.create_connection(
                        lambda: _Protocol(self._encoding), *where)
                await self._hello(protocol)
        except TimeoutError:  # asyncio's, the builtin one
            raise RedisTimeoutError(f"Timeout connecting to Redis at {where}") from None
        except OSError as exc:
            raise ConnectionError(f"Error connecting to Redis at {where}: {exc}") from None
        return protocol

    async def _hello(self, protocol: _Protocol) -> None:
        """The connection's setup, as redis-py's own: the protocol (RESP3 unless the
        URL says `protocol=2`: the response callbacks expect the protocol they were
        chosen for) with the credentials, then the database."""
        kwargs = self._kwargs
        resp = int(kwargs.get("protocol") or DEFAULT_RESP_VERSION)
        password, user = kwargs.get("password"), kwargs.get("username")
        setup: list[tuple[Any, ...]] = []
        if resp >= 3:
            auth = ("AUTH", user or "default", password) if password else ()
            setup.append(("HELLO", resp, *auth))
        elif password:
            setup.append(("AUTH", user, password) if user else ("AUTH", password))
        if kwargs.get("db"):
            setup.append(("SELECT", int(kwargs["db"])))
        for command in setup:
            reply = await protocol.send(hiredis.pack_command(command))
            if isinstance(reply, RedisError):  # AuthenticationError is not a ResponseError
                if protocol.transport is not None:
                    protocol.transport.abort()
                if isinstance(reply, AuthenticationError) or "AUTH" in command:
                    raise AuthenticationError(str(reply))
                raise reply


class LaneRedis(Redis):
    """redis-py's client with the short commands on a `Lane`."""

    _lane: Lane | None = None

    def use_lane(self) -> None:
        if issubclass(self.connection_pool.connection_class, SSLConnection):
            return  # TLS connections stay with redis-py
        self._lane = Lane(self.connection_pool)

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        lane = self._lane
        command_name = args[0]
        if lane is None or not takes_lane(command_name, options):
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        try:
            # redis-py names some commands in two words ("SCRIPT LOAD"): two arguments.
            packed = hiredis.pack_command(
                (*command_name.split(), *args[1:]) if " " in command_name else args)
        except TypeError:  # a value hiredis cannot pack: redis-py says what is wrong
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        try:
            reply = await self._attempt(lane, packed)
        except (ConnectionError, RedisTimeoutError) as first:
            reply = await self._retried(lane, packed, first)
        return await self._parsed(command_name, reply, options)

    @staticmethod
    async def _attempt(lane: Lane, packed: bytes) -> Any:
        reply = await lane.call(packed)
        if isinstance(reply, ReadOnlyError) and lane.through_sentinel:
            # The master we know was demoted: ask the Sentinels again, as redis-py's
            # Sentinel connections do.
            lane.reset()
            raise ConnectionError("the Redis master became a replica (a failover)")
        return reply

    async def _retried(self, lane: Lane, packed: bytes, first: Exception) -> Any:
        """A command whose connection failed: sent again on a new one, with the
        client's retry policy (its backoff, its count of attempts for /metrics)."""
        retry: Retry | None = self.connection_pool.connection_kwargs.get("retry")
        lane.reset()
        if retry is None:
            raise first
        failures = getattr(retry, "failures", None)
        if failures is not None:
            retry.failures = failures + 1  # type: ignore[attr-defined]

        async def fail(error: Exception) -> None:
            lane.reset()

        return await retry.call_with_retry(lambda: self._attempt(lane, packed), fail)

    async def _parsed(self, command_name: str, reply: Any, options: dict[str, Any]) -> Any:
        """The reply as redis-py's own parsing gives it (its response callbacks)."""
        # An error reply, as parse_error classed it: NOAUTH and WRONGPASS are
        # AuthenticationErrors, which redis-py derives from ConnectionError.
        if isinstance(reply, RedisError):
            if isinstance(reply, ResponseError) and "EMPTY_RESPONSE" in options:
                return options["EMPTY_RESPONSE"]
            raise reply
        options.pop("EMPTY_RESPONSE", None)
        options.pop("keys", None)
        callback = self.response_callbacks.get(command_name)
        if callback is None:
            return reply
        value = callback(reply, **options)
        return await value if inspect.isawaitable(value) else value

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self._lane is not None:
            self._lane.close()
        await super().aclose(close_connection_pool)

"""The Redis client every part of the engine uses: one Redis, or the master that Redis
Sentinel names (see `hotline.runtime.redis_url` for the URLs)."""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import MasterNotFoundError, Sentinel, SentinelConnectionPool
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError, TimeoutError

from hotline.runtime.redis_lane import LaneRedis
from hotline.runtime.redis_url import RedisUrlError, read_sentinel_url, redacted, where

__all__ = ["BlockingSentinelConnectionPool", "RedisUrlError", "connect", "where"]


class _Sentinels(Sentinel):
    async def discover_master(self, service_name: str) -> tuple[str, int]:
        try:
            address: tuple[str, int] = await super().discover_master(service_name)
        except MasterNotFoundError:
            # redis-py's message holds the whole repr of every Sentinel's client.
            asked = ",".join(f"{kwargs['host']}:{kwargs['port']}" for kwargs in
                             (s.connection_pool.connection_kwargs for s in self.sentinels))
            raise MasterNotFoundError(
                f"no Sentinel of {asked} answered with a master {service_name!r} that is up "
                "(a failover under way, or the Sentinels unreachable)") from None
        return address


class BlockingSentinelConnectionPool(SentinelConnectionPool, BlockingConnectionPool):
    """Connections to whichever server the Sentinels call the master now, from a bounded
    pool that makes a caller wait for a free connection (as for one Redis). It owns
    its Sentinel, and closes the connections to the Sentinels with its own."""

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            await self.sentinel_manager.aclose()


class CountedRetry(Retry):
    """redis-py's retry, counting every failed attempt (a dropped connection, a
    timeout) for the engine's /metrics."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failures = 0

    async def call_with_retry(self, do: Any, fail: Any, *args: Any, **kwargs: Any) -> Any:
        async def counted(error: Exception, *more: Any) -> Any:
            self.failures += 1
            return await fail(error, *more)

        return await super().call_with_retry(do, counted, *args, **kwargs)


def failed_attempts(redis: Redis) -> int:
    """How many Redis commands of this client failed an attempt (each retry counts)."""
    retry = redis.connection_pool.connection_kwargs.get("retry")
    return retry.failures if isinstance(retry, CountedRetry) else 0


def connect(url: str, max_connections: int = 64, lane: bool = True) -> Redis:
    """A client that rides out a Redis restart, a Sentinel failover and a burst of calls.

    A command on a connection that Redis dropped is retried on a new one for about two
    seconds; through Sentinel, each new connection first asks where the master is now,
    so the retry lands on the promoted replica once the Sentinels have switched.
    Writes are therefore at-least-once: the engine's writes are made safe to repeat
    (claims compare the owner, journal entries carry their time). Hundreds of callers
    at once share a bounded pool and wait their turn for a connection rather than fail
    with "too many connections".

    With `lane`, the commands that answer at once share one pipelined connection
    (`hotline.runtime.redis_lane`), at a fifth of redis-py's CPU per command; blocking
    commands and pipelines keep the pool.

    Replies are decoded as UTF-8 text: every value the engine stores is text. Raises
    RedisUrlError for a URL that cannot be used (see `hotline.runtime.redis_url`).
    """
    options: dict[str, Any] = {
        "max_connections": max_connections,
        "timeout": 5,
        "retry": CountedRetry(ExponentialBackoff(cap=0.5, base=0.02), retries=8),
        "retry_on_error": [ConnectionError, TimeoutError],
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "decode_responses": True,
    }
    sentinel_url = read_sentinel_url(url)
    if sentinel_url is None:
        try:
            pool = BlockingConnectionPool.from_url(url, **options)
        except ValueError as exc:
            raise RedisUrlError(f"the Redis URL {redacted(url)} cannot be used: {exc}"
                                ) from None
        alone = LaneRedis(connection_pool=pool)
        if lane:
            alone.use_lane()
        return alone
    # A Sentinel that does not answer is passed over at once for the next one; the
    # connection's own retry asks them all again.
    sentinel = _Sentinels(  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
        list(sentinel_url.sentinels), sentinel_kwargs={
            "socket_connect_timeout": 2, "socket_timeout": 2,
            "retry": Retry(NoBackoff(), 0), "password": sentinel_url.sentinel_password})
    client: LaneRedis = sentinel.master_for(
        sentinel_url.master, redis_class=LaneRedis,
        connection_pool_class=BlockingSentinelConnectionPool,
        db=sentinel_url.db, username=sentinel_url.username, password=sentinel_url.password,
        **options)
    if lane:
        client.use_lane()
    return client

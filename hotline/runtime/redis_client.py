"""The Redis client every part of the engine uses."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError


def connect(url: str, max_connections: int = 64) -> Redis:
    """A client that rides out a Redis restart and a burst of calls.

    A command on a connection that Redis dropped is retried on a new one for about two
    seconds. Writes are therefore at-least-once: the engine's writes are made safe to
    repeat (claims compare the owner, journal entries carry their time). Hundreds of
    callers at once share a bounded pool and wait their turn for a connection rather
    than fail with "too many connections".

    Replies are decoded as UTF-8 text: every value the engine stores is text.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=5,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=8),
        retry_on_error=[ConnectionError, TimeoutError],
        socket_connect_timeout=2,
        socket_timeout=5,
        decode_responses=True,
    )
    return Redis(connection_pool=pool)

"""The Redis client every part of the engine uses."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError


def connect(url: str) -> Redis:
    """A client that rides out a Redis restart.

    A command on a connection that Redis dropped is retried on a new one for about two
    seconds. Writes are therefore at-least-once: the engine's writes are made safe to
    repeat (claims compare the owner, journal entries carry their time).
    """
    return Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), retries=8),
        retry_on_error=[ConnectionError, TimeoutError],
        socket_connect_timeout=2,
        socket_timeout=5,
    )

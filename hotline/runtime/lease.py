"""This engine's lease in Redis: the proof to its peers that it is alive.

Each engine renews a short lease under its instance id. A call's owner whose lease has
lapsed is dead (killed, frozen, cut off), and any live engine may take its calls over
(`hotline.calls.adoption`). An engine that finds its own lease gone when it renews was
given up for dead: its calls may be a peer's by now. It lets them go without a word to
Asterisk and goes on under a new id, adopting what is left like any other engine.

The instance id is the fencing token: unique per lease, never reused, and what every
guarded write about a call compares (`CallLog`). A stale engine that wakes up holds an
id that no longer owns anything.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Callable, Iterable

from redis.asyncio import Redis

log = logging.getLogger(__name__)

LEASE_MS = 3000  # a peer is given up for dead this long after its last renewal
RENEW_EVERY = 1.0  # seconds: two renewals may fail before the lease lapses
KNOWN_KEPT_MS = 86400 * 1000  # engines that renewed within a day are looked after


def new_instance_id(name: str = "") -> str:
    """Unique per lease: a restarted engine never passes for its earlier self, so the
    calls of the dead one are adopted, never silently assumed."""
    return f"{name or socket.gethostname()}-{secrets.token_hex(3)}"


class EngineLease:
    def __init__(self, redis: Redis, prefix: str, name: str,
                 clock_ms: Callable[[], int]) -> None:
        """`name`: what the ids start with (the HOTLINE_INSTANCE_ID setting)."""
        self.redis = redis
        self.prefix = prefix
        self.name = name
        self.clock_ms = clock_ms
        self.instance_id = new_instance_id(name)

    def key(self, instance_id: str) -> str:
        return f"{self.prefix}engine:{instance_id}"

    @property
    def known_key(self) -> str:
        return f"{self.prefix}engines"  # every engine seen lately, by its last renewal

    async def take(self) -> None:
        """Hold a lease under this engine's id (at start, and after it lapsed)."""
        now = self.clock_ms()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.key(self.instance_id), str(now), px=LEASE_MS)
            pipe.zadd(self.known_key, {self.instance_id: now})
            pipe.zremrangebyscore(self.known_key, "-inf", now - KNOWN_KEPT_MS)
            await pipe.execute()

    async def renew(self) -> bool:
        """False when the lease had lapsed: this engine must let its calls go."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.pexpire(self.key(self.instance_id), LEASE_MS)
            pipe.zadd(self.known_key, {self.instance_id: self.clock_ms()}, xx=True)
            renewed, _ = await pipe.execute()
        return bool(renewed)

    async def alive(self, instance_ids: Iterable[str]) -> set[str]:
        """Those of `instance_ids` whose lease holds (this engine's own included)."""
        ids = sorted(set(instance_ids))
        async with self.redis.pipeline(transaction=False) as pipe:
            for instance_id in ids:
                pipe.exists(self.key(instance_id))
            replies = await pipe.execute()
        return {i for i, up in zip(ids, replies, strict=True) if up}

    async def is_dead(self, owner: str | None) -> bool:
        """Whether a call owned by `owner` may be taken over: nobody owns it, or its
        owner's lease lapsed."""
        if owner is None:
            return True
        if owner == self.instance_id:
            return False
        return not await self.redis.exists(self.key(owner))

    async def lapsed_peers(self) -> list[str]:
        """Engines seen lately whose lease has lapsed: their calls await adoption."""
        known = [str(i) for i in await self.redis.zrange(self.known_key, 0, -1)]
        up = await self.alive(known)
        return [i for i in known if i not in up]

    async def forget(self, instance_id: str) -> None:
        """A lapsed engine whose calls were all looked after is no longer listed."""
        await self.redis.zrem(self.known_key, instance_id)

    async def release(self) -> None:
        """At a clean stop: peers need not wait for the lease to lapse."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self.key(self.instance_id))
            pipe.zrem(self.known_key, self.instance_id)
            await pipe.execute()

"""This engine's lease in Redis: the proof to its peers that it is alive.

Each engine renews a short lease under its instance id. A call's owner whose lease has
lapsed is dead (killed, frozen, cut off), and any live engine may take its calls over
(`hotline.calls.adoption`). An engine that finds its own lease gone when it renews was
given up for dead: some of its calls may be a peer's by now. It takes its lease again
under the same id, lets go of the calls a peer took (without a word to Asterisk) and
keeps the others, whose owner still names it.

The instance id is the fencing token: unique per process, and what every guarded write
about a call compares (`CallLog`). A call a peer took names the peer: a stale engine that
wakes up can no longer act on it.

A restarted engine need not wait for its predecessor's lease to lapse: a lease names the
host, boot, pid namespace and pid of its holder, and a process of this machine that no
longer runs has its lease ended at the start (`end_dead_neighbours`).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from redis.asyncio import Redis

log = logging.getLogger(__name__)

LEASE_MS = 2500  # a peer is given up for dead this long after its last renewal
# Seconds: four renewals may fail (a 2 s stall of Redis or of the engine's loop) before
# the lease lapses, and a peer notices a lapse within half a second.
RENEW_EVERY = 0.5
KNOWN_KEPT_MS = 86400 * 1000  # engines that renewed within a day are looked after
LISTED_EVERY_MS = 60_000  # how often a live engine's listing among them is renewed


class Renewal(NamedTuple):
    held: bool  # False: the lease had lapsed, and this engine must let its calls go
    lapsed_peers: list[str]  # peers whose calls await adoption (none when not held)


def this_process() -> str:
    """Where an engine runs, as its lease says: host, boot, pid namespace and pid. An
    engine that finds its own machine, boot and namespace in a lease can tell for sure
    whether that process still exists."""
    return " ".join((socket.gethostname(), _read("/proc/sys/kernel/random/boot_id"),
                     _link("/proc/self/ns/pid"), str(os.getpid())))


def gone_from_here(holder: str, here: str) -> bool:
    """Whether the lease `holder` (`this_process()` of the engine that holds it) names
    a process of this machine, boot and pid namespace that no longer runs. Anything
    else (another machine, an older engine's lease, an unknown pid state) is not
    known gone: its lease must lapse."""
    parts, mine = holder.split(" "), here.split(" ")
    if len(parts) != 4 or parts[:3] != mine[:3] or not parts[3].isdigit() \
            or "" in parts[:3] or parts[3] == mine[3]:
        return False
    try:
        os.kill(int(parts[3]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, as another user
    # A killed process its parent has not reaped yet is a zombie: gone all the same.
    return _read(f"/proc/{parts[3]}/stat").rsplit(")", 1)[-1].split()[:1] == ["Z"]


def _read(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def _link(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


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
        self.here = this_process()
        self._listed_at = -LISTED_EVERY_MS  # when this engine last renewed its listing
        self.held_at_ms: float | None = None  # when the lease was last seen held

    def key(self, instance_id: str) -> str:
        return f"{self.prefix}engine:{instance_id}"

    @property
    def known_key(self) -> str:
        return f"{self.prefix}engines"  # every engine seen lately, by its last renewal

    async def take(self) -> None:
        """Hold a lease under this engine's id (at start, and after it lapsed)."""
        now = self.clock_ms()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.key(self.instance_id), self.here, px=LEASE_MS)
            pipe.zadd(self.known_key, {self.instance_id: now})
            pipe.zremrangebyscore(self.known_key, "-inf", now - KNOWN_KEPT_MS)
            await pipe.execute()
        self._listed_at = now

    async def renew_and_look(self) -> Renewal:
        """Renew, and see which peers' leases lapsed: one round trip for an engine
        alone, two with peers."""
        now = self.clock_ms()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.pexpire(self.key(self.instance_id), LEASE_MS)
            pipe.zrange(self.known_key, 0, -1)
            # Listed engines are kept a day: a fresh listing now and then is plenty.
            if now - self._listed_at >= LISTED_EVERY_MS:
                pipe.zadd(self.known_key, {self.instance_id: now}, xx=True)
                self._listed_at = now
            renewed, known, *_ = await pipe.execute()
        peers = [str(i) for i in known if str(i) != self.instance_id]
        self.held_at_ms = now if renewed else None
        up = await self.alive(peers) if peers and renewed else set()
        return Renewal(bool(renewed), [i for i in peers if renewed and i not in up])

    def holds(self) -> bool:
        """Whether the lease was held at its latest renewal, and that is recent."""
        return self.held_at_ms is not None and self.clock_ms() - self.held_at_ms < LEASE_MS

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

    async def end_dead_neighbours(self) -> list[str]:
        """Lets lapse at once the leases of engines that ran on this machine and are
        gone (killed, crashed): a restarted engine adopts its predecessor's callers
        without waiting out the lease. Returns their ids."""
        known = [str(i) for i in await self.redis.zrange(self.known_key, 0, -1)
                 if str(i) != self.instance_id]
        if not known:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for instance_id in known:
                pipe.get(self.key(instance_id))
            holders = await pipe.execute()
        dead = [i for i, holder in zip(known, holders, strict=True)
                if holder is not None and gone_from_here(str(holder), self.here)]
        if dead:
            async with self.redis.pipeline(transaction=False) as pipe:
                for instance_id in dead:  # one key per command: Cluster-safe
                    pipe.delete(self.key(instance_id))
                await pipe.execute()
            log.warning("engine(s) %s ran on this machine and are gone: their calls are "
                        "adopted now", ", ".join(dead))
        return dead

    async def forget(self, instance_id: str) -> None:
        """A lapsed engine whose calls were all looked after is no longer listed."""
        await self.redis.zrem(self.known_key, instance_id)

    async def release(self) -> None:
        """At a clean stop: peers need not wait for the lease to lapse."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.delete(self.key(self.instance_id))
            pipe.zrem(self.known_key, self.instance_id)
            await pipe.execute()

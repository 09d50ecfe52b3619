"""Queue statistics in Redis, and the `queue_log` lines beside them.

Counters live per day (in the hotline's time zone), queue and VIP tier, plus the tier
"all"; the meaning of each is in `routing.stats`. Every key has the hash tag `{stats}`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable
from typing import cast

from redis.asyncio import Redis

from hotline.queues.queue_log import QueueLog
from routing.stats import ALL_TIERS, QueueFigures

KEEP_DAYS = 45
RECENT_HANDLE_TIMES = 20



class QueueStats:
    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float],
                 timezone: Callable[[], str], queue_log: QueueLog) -> None:
        self.redis = redis
        self.base = f"{prefix}{{stats}}"
        self.clock = clock
        self.timezone = timezone
        self.log = queue_log

    def day(self, at: float | None = None) -> str:
        zone = zoneinfo.ZoneInfo(self.timezone())
        return dt.datetime.fromtimestamp(self.clock() if at is None else at, zone).date() \
            .isoformat()

    def key(self, day: str, queue: str, tier: str) -> str:
        return f"{self.base}:{day}:{queue}:{tier}"

    async def count(self, queue: str, tier: str, counters: dict[str, int]) -> None:
        day = self.day()
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in {self.key(day, queue, tier), self.key(day, queue, ALL_TIERS)}:
                for name, amount in counters.items():
                    if amount:
                        pipe.hincrby(key, name, amount)
                pipe.expire(key, KEEP_DAYS * 86400)
            await pipe.execute()

    async def figures(self, day: str, queue: str, tier: str = ALL_TIERS) -> QueueFigures:
        raw = cast(dict[str, str], await self.redis.hgetall(self.key(day, queue, tier)))
        return QueueFigures.from_counters(dict(raw))

    # --- per call: when it rang and was answered, for ring and talk times --------------

    def call_key(self, call_id: str) -> str:
        return f"{self.base}:call:{call_id}"

    async def mark(self, call_id: str, **moments: float) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(self.call_key(call_id), mapping={k: f"{v:.3f}" for k, v in moments.items()})
            pipe.expire(self.call_key(call_id), 86400)
            await pipe.execute()

    async def moments(self, call_id: str) -> dict[str, float]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.call_key(call_id)))
        return {k: float(v) for k, v in raw.items()}

    # --- recent handle times, for the expected wait announced to callers -------------

    async def handled(self, queue: str, seconds: float) -> None:
        key = f"{self.base}:handle_times:{queue}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.lpush(key, f"{seconds:.1f}")
            pipe.ltrim(key, 0, RECENT_HANDLE_TIMES - 1)
            await pipe.execute()

    async def recent_handle_times(self, queue: str) -> list[float]:
        raw = await self.redis.lrange(f"{self.base}:handle_times:{queue}", 0, -1)
        return [float(v) for v in raw]

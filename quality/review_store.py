"""The monthly review's picks and reviews in Redis. Keys carry the hash tag `{quality}`
and are kept `REVIEWS_KEPT` (a year and a month: last year's same month stays
comparable), then go by themselves."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import cast

from redis.asyncio import Redis

REVIEWS_KEPT = 400 * 86400

# The month's pick, written once: the first engine to pick it writes it whole; another
# that picked meanwhile finds it written and writes nothing. ARGV: kept for (s), when
# picked, then agent id, its call ids (comma-separated), ...
_PICKED = """
if redis.call('HSETNX', KEYS[1], 'picked_at', ARGV[2]) == 0 then return 0 end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], 'agent:' .. ARGV[i], ARGV[i + 1]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


class ReviewStore:
    def __init__(self, redis: Redis, prefix: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.base = f"{prefix}{{quality}}"
        self.clock = clock
        self._picked = redis.register_script(_PICKED)

    def month_key(self, month: str) -> str:
        return f"{self.base}:review:{month}"

    def review_key(self, call_id: str) -> str:
        return f"{self.base}:review:call:{call_id}"

    async def is_picked(self, month: str) -> bool:
        return bool(await self.redis.hexists(self.month_key(month), "picked_at"))

    async def store_pick(self, month: str, picked: Mapping[str, list[str]]) -> bool:
        """False when the month was picked already (by this engine or a peer)."""
        flat = [item for agent, calls in picked.items() for item in (agent, ",".join(calls))]
        return bool(await self._picked(keys=[self.month_key(month)],
                                       args=[REVIEWS_KEPT, f"{self.clock():.3f}", *flat]))

    async def picked(self, month: str) -> dict[str, list[str]]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.month_key(month)))
        return {name.removeprefix("agent:"): [c for c in calls.split(",") if c]
                for name, calls in raw.items() if name.startswith("agent:")}

    async def save(self, call_id: str, agent: str, month: str, reviewer: str, marks: str,
                   comment: str) -> None:
        key = self.review_key(call_id)
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(key, mapping={"agent": agent, "month": month, "reviewer": reviewer,
                                  "marks": marks, "comment": comment,
                                  "at": f"{self.clock():.3f}"})
            tx.expire(key, REVIEWS_KEPT)
            await tx.execute()

    async def reviews(self, call_ids: list[str]) -> dict[str, dict[str, str]]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for call_id in call_ids:
                pipe.hgetall(self.review_key(call_id))
            found = await pipe.execute()
        return {c: dict(r) for c, r in zip(call_ids, found, strict=True) if r}

"""The recording index in Redis: one hash per call, a time-ordered set of indexed calls,
the calls still being recorded (for the sweep after a restart), and the alarm counter."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, cast

from redis.asyncio import Redis

from quality.recordings import RecordingFacts


class RecordingIndex:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.base = f"{prefix}{{quality}}"
        self.alarms_key = f"{self.base}:alarms:bad_recording"
        self.indexed_key = f"{self.base}:recordings"  # call id -> ended (ms)
        self.pending_key = f"{self.base}:recordings:pending"  # call id -> started (ms)

    def key(self, call_id: str) -> str:
        return f"{self.base}:recording:{call_id}"

    async def started(self, call_id: str, at_ms: int) -> None:
        await self.redis.zadd(self.pending_key, {call_id: at_ms}, nx=True)

    async def pending(self, started_before_ms: int) -> list[str]:
        ids = await self.redis.zrangebyscore(self.pending_key, "-inf", started_before_ms)
        return [i for i in ids if isinstance(i, str)]

    async def drop_pending(self, call_id: str) -> None:
        await self.redis.zrem(self.pending_key, call_id)

    async def is_pending(self, call_id: str) -> bool:
        return await self.redis.zscore(self.pending_key, call_id) is not None

    async def store(self, call_id: str, details: dict[str, str],
                    facts: RecordingFacts | None, mutes: list[tuple[float, float]],
                    issues: list[str]) -> None:
        entry = {**details, "mutes": json.dumps(mutes), "problems": json.dumps(issues)}
        if facts is not None:
            entry |= {k: str(v) for k, v in asdict(facts).items()}
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(self.key(call_id), mapping=cast(Any, entry))  # redis-py: invariant keys
            tx.zadd(self.indexed_key, {call_id: float(details.get("ended", 0))})
            tx.zrem(self.pending_key, call_id)
            if issues:
                tx.incr(self.alarms_key)
            await tx.execute()

    async def entry(self, call_id: str) -> dict[str, str]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.key(call_id)))
        return dict(raw)

    async def newest(self, limit: int = 50) -> list[dict[str, str]]:
        ids = await self.redis.zrevrange(self.indexed_key, 0, limit - 1)
        return [await self.entry(i) for i in ids if isinstance(i, str)]

    async def ended_before(self, ended_ms: int, offset: int = 0,
                           limit: int = 500) -> list[str]:
        ids = await self.redis.zrangebyscore(self.indexed_key, "-inf", ended_ms,
                                             start=offset, num=limit)
        return [i for i in ids if isinstance(i, str)]

    async def flag(self, call_id: str, reason: str) -> bool:
        """Keep a recording past retention (a complaint, a dispute); False when the
        call has no recording, finished or under way."""
        if not await self.redis.exists(self.key(call_id)) and \
                await self.redis.zscore(self.pending_key, call_id) is None:
            return False
        await self.redis.hset(self.key(call_id), "flagged", reason or "flagged")
        return True

    async def unflag(self, call_id: str) -> None:
        await self.redis.hdel(self.key(call_id), "flagged")

    async def forget(self, call_id: str) -> None:
        async with self.redis.pipeline(transaction=True) as tx:
            tx.delete(self.key(call_id))
            tx.zrem(self.indexed_key, call_id)
            await tx.execute()

    async def alarms(self) -> int:
        return int(await self.redis.get(self.alarms_key) or 0)

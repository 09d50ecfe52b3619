"""The recording index in Redis: one hash per recording, a time-ordered set of indexed
recordings, the ones still being recorded (for the sweep after a restart), and the alarm
counter.

A call's recording is indexed under the call's id. The customer's leg of a queue
callback is a recording of its own (`callback_recording_id`), whose entry names the
call (`call_id`) and is listed with the call's (`recordings_of`)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import cast

from redis.asyncio import Redis

from quality.recordings import CALLBACK_LEG, RecordingFacts

# A customer answered a queue callback: its recording is expected, once, by whichever
# engine hears it first, and never again after it was indexed. A call flagged already
# (a complaint while the caller waited) keeps this recording too.
_CALLBACK_ANSWERED = """
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
if redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1]) == 0 then return 0 end
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], 'call_id', ARGV[3], 'recording', ARGV[1], 'leg', ARGV[4],
           'channel', ARGV[5], 'source', ARGV[6], 'answered', ARGV[2])
local flagged = redis.call('HGET', KEYS[5], 'flagged')
if flagged then redis.call('HSET', KEYS[4], 'flagged', flagged) end
return 1
"""


# A recording indexed: its entry, its place in time, no longer pending, and first in
# its caller's calls (KEYS[5], when the number is known); ARGV: its id, when it ended
# (ms), whether it has problems (1: the alarm counts it), then the entry.
_STORE = """
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[3] == '1' then redis.call('INCR', KEYS[4]) end
if KEYS[5] then
  redis.call('LREM', KEYS[5], 0, ARGV[1])
  redis.call('LPUSH', KEYS[5], ARGV[1])
  redis.call('LTRIM', KEYS[5], 0, CALLS_OF_KEPT - 1)
  redis.call('EXPIRE', KEYS[5], CALLS_OF_FOR)
end
return 1
"""
# A caller's latest calls (the agent's screen shows five), for as long as a recording
# is kept by default; entries purged meanwhile are skipped by the reader.
CALLS_OF_KEPT = 20
CALLS_OF_FOR = 180 * 86400

# At a hangup on channel ARGV[1]: the call's entry, and the recording under way of
# the callback leg on that channel, if any ('' when none). A leg's entry is named like
# the call's (ARGV[2] its id), under the same hash tag.
_AT_HANGUP = """
local leg = ''
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local base = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[2])
  if redis.call('HGET', base .. id, 'channel') == ARGV[1] and
      redis.call('ZSCORE', KEYS[3], id) then
    leg = id
    break
  end
end
return {redis.call('HGETALL', KEYS[1]), leg}
"""


class RecordingIndex:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.base = f"{prefix}{{quality}}"
        self.alarms_key = f"{self.base}:alarms:bad_recording"
        # Recording ids (a call's id, or its callback leg's) -> ended, or started (ms).
        self.indexed_key = f"{self.base}:recordings"
        self.pending_key = f"{self.base}:recordings:pending"
        self._callback_answered = redis.register_script(_CALLBACK_ANSWERED)
        self._store = redis.register_script(
            f"local CALLS_OF_KEPT, CALLS_OF_FOR = {CALLS_OF_KEPT}, {CALLS_OF_FOR}\n{_STORE}")
        self._at_hangup = redis.register_script(_AT_HANGUP)

    def key(self, call_id: str) -> str:
        return f"{self.base}:recording:{call_id}"

    def calls_of_key(self, number: str) -> str:
        return f"{self.base}:calls_of:{number}"

    async def calls_of(self, number: str, count: int = 5) -> list[dict[str, str]]:
        """The caller's latest indexed calls, newest first (a callback leg counts as the
        call it belongs to, once)."""
        ids = [str(i) for i in await self.redis.lrange(self.calls_of_key(number), 0, -1)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for recording_id in ids:
                pipe.hgetall(self.key(recording_id))
            entries = await pipe.execute()
        found, seen = [], set()
        for entry in entries:
            call_id = entry.get("call_id")
            if not entry or call_id in seen:
                continue
            seen.add(call_id)
            found.append(cast(dict[str, str], entry))
            if len(found) == count:
                break
        return found

    def callbacks_key(self, call_id: str) -> str:
        """The ids of the recordings of a call's callback legs."""
        return f"{self.base}:recording:{call_id}:callbacks"

    async def callback_answered(self, call_id: str, recording_id: str, at_ms: int,
                                channel: str, source: str) -> bool:
        """The customer answered the callback of `call_id` on `channel`: its recording
        `recording_id`, written by Asterisk into `source`, is expected from `at_ms` on.
        False when it was noted already (by another engine that heard it too)."""
        return bool(await self._callback_answered(
            keys=[self.pending_key, self.indexed_key, self.callbacks_key(call_id),
                  self.key(recording_id), self.key(call_id)],
            args=[recording_id, at_ms, call_id, CALLBACK_LEG, channel, source]))

    async def callbacks(self, call_id: str) -> list[str]:
        """The recordings of the call's callback legs, under way or indexed."""
        ids = await self.redis.smembers(self.callbacks_key(call_id))
        return sorted(i for i in ids if isinstance(i, str))

    async def at_hangup(self, call_id: str, channel: str) -> tuple[dict[str, str], str | None]:
        """In one round trip: the call's entry, and the recording under way of its
        callback leg on `channel`, if any (see `_AT_HANGUP`)."""
        flat, leg = await self._at_hangup(
            keys=[self.key(call_id), self.callbacks_key(call_id), self.pending_key],
            args=[channel, call_id])
        return dict(zip(flat[::2], flat[1::2], strict=True)), str(leg) or None

    async def recordings_of(self, call_id: str) -> list[dict[str, str]]:
        """Everything recorded of one call, as a supervisor reviews it: the call's own
        recording, then its callback legs' (each entry as `entry` gives it)."""
        entries = [await self.entry(i) for i in [call_id, *await self.callbacks(call_id)]]
        return [e for e in entries if e]

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
        flat = [item for pair in entry.items() for item in pair]
        number = details.get("caller_number", "")
        await self._store(keys=[self.key(call_id), self.indexed_key, self.pending_key,
                                self.alarms_key,
                                *([self.calls_of_key(number)] if number else [])],
                          args=[call_id, float(details.get("ended", 0)),
                                "1" if issues else "0", *flat])

    async def entry(self, call_id: str) -> dict[str, str]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.key(call_id)))
        return dict(raw)

    async def newest(self, limit: int = 50) -> list[dict[str, str]]:
        ids = await self.redis.zrevrange(self.indexed_key, 0, limit - 1)
        return [await self.entry(i) for i in ids if isinstance(i, str)]

    async def ended_between(self, start_ms: int, end_ms: int) -> list[dict[str, str]]:
        """Every indexed recording that ended in [start_ms, end_ms), with its id as
        `recording`, oldest first."""
        ids = [str(i) for i in await self.redis.zrangebyscore(
            self.indexed_key, start_ms, f"({end_ms}")]
        found = []
        for first in range(0, len(ids), 500):
            async with self.redis.pipeline(transaction=False) as pipe:
                for recording_id in ids[first:first + 500]:
                    pipe.hgetall(self.key(recording_id))
                entries = await pipe.execute()
            found += [{**entry, "recording": i}
                      for i, entry in zip(ids[first:first + 500], entries, strict=True)
                      if entry]
        return found

    async def ended_before(self, ended_ms: int, offset: int = 0,
                           limit: int = 500) -> list[str]:
        ids = await self.redis.zrangebyscore(self.indexed_key, "-inf", ended_ms,
                                             start=offset, num=limit)
        return [i for i in ids if isinstance(i, str)]

    async def flag(self, call_id: str, reason: str) -> bool:
        """Keep a call's recordings past retention (a complaint, a dispute): its own and
        its callback legs'; False when the call has no recording, finished or under
        way."""
        ids = [i for i in [call_id, *await self.callbacks(call_id)]
               if await self.redis.exists(self.key(i)) or await self.is_pending(i)]
        for recording_id in ids:
            await self.redis.hset(self.key(recording_id), "flagged", reason or "flagged")
        return bool(ids)

    async def unflag(self, call_id: str) -> None:
        for recording_id in [call_id, *await self.callbacks(call_id)]:
            await self.redis.hdel(self.key(recording_id), "flagged")

    async def forget(self, recording_id: str) -> None:
        call_id = await self.redis.hget(self.key(recording_id), "call_id")
        async with self.redis.pipeline(transaction=True) as tx:
            tx.delete(self.key(recording_id))
            tx.zrem(self.indexed_key, recording_id)
            if isinstance(call_id, str) and call_id != recording_id:  # a callback leg's
                tx.srem(self.callbacks_key(call_id), recording_id)
            await tx.execute()

    async def alarms(self) -> int:
        return int(await self.redis.get(self.alarms_key) or 0)

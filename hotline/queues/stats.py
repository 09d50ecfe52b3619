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
from routing.replay import Served
from routing.stats import ALL_TIERS, QueueFigures

KEEP_DAYS = 45
# A day's record of every caller's time in the queues, for `hotline simulate --replay`:
# kept a week and a day (yesterday's callers, or last week's same day).
SERVED_DAYS = 8
RECENT_HANDLE_TIMES = 20
DISPOSITION = "disposition:"  # a day's counter of calls recorded as that code
MOMENTS_KEPT = 86400  # seconds: when a call rang and was answered, for its ring and talk

# KEYS: the tier's day key, the day key for all tiers, the queue's recent handle times,
#       then (only with a call) the call's moments, then (only with a record of the
#       caller's time in the queues) the day's served stream
# ARGV: the days' time kept (s), how many handle times are kept, a handle time or '',
#       the moments' time kept (s), how many counters, how many moments, the served
#       records' time kept (s), then counter name, amount, ..., then moment name,
#       time, ..., then the record's field, value, ...
# Returns the call's moments noted before, as name, time, ... (none without KEYS[4]).
# The record gets the call's ring and answer moments, and its count of rings no agent
# answered, as the script finds them: the reporting of a call's end needs no read of
# its own.
_COUNT = """
local moments_from = 8 + 2 * tonumber(ARGV[5])
local record_from = moments_from + 2 * tonumber(ARGV[6])
for k = 1, KEYS[1] == KEYS[2] and 1 or 2 do
  for i = 8, moments_from - 1, 2 do redis.call('HINCRBY', KEYS[k], ARGV[i], ARGV[i + 1]) end
  redis.call('EXPIRE', KEYS[k], ARGV[1])
end
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], 0, ARGV[2] - 1)
end
if not KEYS[4] then return {} end
local before = redis.call('HGETALL', KEYS[4])
if record_from > moments_from then
  redis.call('HSET', KEYS[4], unpack(ARGV, moments_from, record_from - 1))
  redis.call('EXPIRE', KEYS[4], ARGV[4])
end
if KEYS[5] then
  local record = {unpack(ARGV, record_from)}
  for i = 1, #before, 2 do
    if before[i] == 'rang' or before[i] == 'answered' or before[i] == 'unanswered' then
      record[#record + 1] = before[i]
      record[#record + 1] = before[i + 1]
    end
  end
  redis.call('XADD', KEYS[5], '*', unpack(record))
  redis.call('EXPIRE', KEYS[5], ARGV[7])
end
return before
"""

# KEYS: the call's moments; ARGV: time kept (s), then name, time, ...
# Returns the moments noted before, as name, time, ...
_MARK = """
local before = redis.call('HGETALL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return before
"""

# KEYS: the call's moments; ARGV: time kept (s). One more ring no agent answered, for the
# record of the call's time in the queues. Returns the moments, as name, time, ...
_UNANSWERED = """
redis.call('HINCRBY', KEYS[1], 'unanswered', 1)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('HGETALL', KEYS[1])
"""



def served_key(base: str, day: str) -> str:
    """The stream of the day's records of callers' time in the queues (`base`: the
    prefix and `{stats}`)."""
    return f"{base}:served:{day}"


async def served_records(redis: Redis, prefix: str, day: str) -> list[dict[str, str]]:
    """A day's records (`Served` fields, with the `rang` and `answered` moments when the
    call had them), oldest first."""
    entries = await redis.xrange(served_key(f"{prefix}{{stats}}", day)) or []
    return [{str(k): str(v) for k, v in (fields or {}).items()} for _, fields in entries]


def _flat(moments: dict[str, float]) -> list[str]:
    return [item for name, at in moments.items() for item in (name, f"{at:.3f}")]


class QueueStats:
    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float],
                 timezone: Callable[[], str], queue_log: QueueLog) -> None:
        self.redis = redis
        self.base = f"{prefix}{{stats}}"
        self.clock = clock
        self.timezone = timezone
        self.log = queue_log
        self._count = redis.register_script(_COUNT)
        self._mark = redis.register_script(_MARK)
        self._unanswered = redis.register_script(_UNANSWERED)

    def day(self, at: float | None = None) -> str:
        zone = zoneinfo.ZoneInfo(self.timezone())
        return dt.datetime.fromtimestamp(self.clock() if at is None else at, zone).date() \
            .isoformat()

    def key(self, day: str, queue: str, tier: str) -> str:
        return f"{self.base}:{day}:{queue}:{tier}"

    async def count(self, queue: str, tier: str, counters: dict[str, int],
                    handle_time: float | None = None, call_id: str | None = None,
                    served: Served | None = None, **moments: float) -> dict[str, float]:
        """Add `counters` to the day's figures of the queue, for the tier and for all;
        with `handle_time` (seconds), also to the queue's recent handle times; with
        `call_id`, also `mark` its `moments`, and return those noted before; with
        `served` (and `call_id`), also add the caller's time in the queues to the day's
        record. One script: a caller's event costs one request, however many counters
        it moves."""
        day = self.day()
        pairs = [str(item) for name, amount in counters.items() if amount
                 for item in (name, amount)]
        keys = [self.key(day, queue, tier), self.key(day, queue, ALL_TIERS),
                self.handle_times_key(queue)]
        if call_id is not None:
            keys.append(self.call_key(call_id))
            if served is not None:
                keys.append(self.served_key(day))
        record = [] if served is None else served.fields()
        raw = await self._count(
            keys=keys,
            args=[KEEP_DAYS * 86400, RECENT_HANDLE_TIMES,
                  "" if handle_time is None else f"{handle_time:.1f}", MOMENTS_KEPT,
                  len(pairs) // 2, len(moments), SERVED_DAYS * 86400, *pairs,
                  *_flat(moments), *record])
        return {str(k): float(v) for k, v in zip(raw[::2], raw[1::2], strict=True)}

    async def figures(self, day: str, queue: str, tier: str = ALL_TIERS) -> QueueFigures:
        raw = cast(dict[str, str], await self.redis.hgetall(self.key(day, queue, tier)))
        return QueueFigures.from_counters(dict(raw))

    async def dispositions(self, day: str, queue: str) -> dict[str, int]:
        """How the day's calls of the queue were recorded in wrap-up (code: calls)."""
        raw = cast(dict[str, str], await self.redis.hgetall(self.key(day, queue, ALL_TIERS)))
        return {name.removeprefix(DISPOSITION): int(count) for name, count in sorted(raw.items())
                if name.startswith(DISPOSITION) and int(count) > 0}

    # --- the day's record of callers' time in the queues ------------------------------

    def served_key(self, day: str) -> str:
        return served_key(self.base, day)

    # --- per call: when it rang and was answered, for ring and talk times --------------

    def call_key(self, call_id: str) -> str:
        return f"{self.base}:call:{call_id}"

    async def mark(self, call_id: str, **moments: float) -> dict[str, float]:
        """Note the call's `moments`; returns those noted before (one request)."""
        raw = await self._mark(keys=[self.call_key(call_id)],
                               args=[MOMENTS_KEPT, *_flat(moments)])
        return {str(k): float(v) for k, v in zip(raw[::2], raw[1::2], strict=True)}

    async def ring_unanswered(self, call_id: str) -> dict[str, float]:
        """Count a ring of the call that no agent answered; returns its moments (one
        request, as the read of them was)."""
        raw = await self._unanswered(keys=[self.call_key(call_id)], args=[MOMENTS_KEPT])
        return {str(k): float(v) for k, v in zip(raw[::2], raw[1::2], strict=True)}

    async def moments(self, call_id: str) -> dict[str, float]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.call_key(call_id)))
        return {k: float(v) for k, v in raw.items()}

    # --- recent handle times, for the expected wait announced to callers -------------

    def handle_times_key(self, queue: str) -> str:
        return f"{self.base}:handle_times:{queue}"

    async def recent_handle_times(self, queue: str) -> list[float]:
        raw = await self.redis.lrange(self.handle_times_key(queue), 0, -1)
        return [float(v) for v in raw]

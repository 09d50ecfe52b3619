"""Timers that outlive the process: what an agent or a call waits for (a wrap-up's
end) is a due time in Redis, and any engine runs it when it falls due.

One sorted set holds `kind|argument` by due time. Taking a due timer moves it to a
retry time in the same script, so each runs once: if the engine that took it dies
before it is done, it falls due again and a peer runs it. Handlers are idempotent
(a compare-and-set underneath), which makes a run after such a crash harmless.

An engine looks when its next timer falls due, or when it sets an earlier one itself,
and at least every LOOK_EVERY: a timer a peer set is run by that peer, or by another
engine within LOOK_EVERY of its due time when that peer has died. An idle engine costs
Redis one look a second, not four.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable
from typing import cast

from redis.asyncio import Redis

from hotline.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)

LOOK_EVERY = 1.0  # seconds: at most this long between two looks
RETRY_AFTER_MS = 30_000  # a timer taken by an engine that died is run again after this
BATCH = 100

Handler = Callable[[str], Awaitable[None]]

# The due timers, each moved to its retry time (score) as it is taken, and when the
# earliest one left falls due (false when none is left).
_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {due, earliest[2] or false}
"""

# Done: gone, unless it was set again (for a later time) while it ran.
_DONE = """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if score and tonumber(score) == tonumber(ARGV[2]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""


class DueTimers:
    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float],
                 supervisor: Supervisor) -> None:
        self.redis = redis
        self.key = f"{prefix}timers"
        self.clock = clock
        self.supervisor = supervisor
        self._take_due = redis.register_script(_TAKE_DUE)
        self._done = redis.register_script(_DONE)
        self.handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()
        self._next_look = math.inf  # when this engine looks next (seconds, its clock)
        self._next_due: float | None = None  # the earliest timer left at the last look

    def on(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def start(self) -> None:
        # A failed look (Redis away) is logged and tried again within LOOK_EVERY.
        self.supervisor.forever("due timers", self._look_forever, pause_min=LOOK_EVERY / 4,
                                pause_max=LOOK_EVERY)

    async def _look_forever(self) -> None:
        while True:
            # A timer set while this look runs wakes the next one at once.
            self._wake.clear()
            self._next_look = math.inf
            await self.run_due()
            now = self.clock()
            wait = LOOK_EVERY if self._next_due is None else \
                max(0.0, min(self._next_due - now, LOOK_EVERY))
            self._next_look = now + wait
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def at(self, kind: str, argument: str, due: float) -> None:
        """Run `kind`'s handler with `argument` at `due` (seconds); setting the same
        timer again moves it."""
        await self.redis.zadd(self.key, {f"{kind}|{argument}": int(due * 1000)})
        if due < self._next_look:
            self._wake.set()  # sooner than this engine meant to look

    async def pending(self) -> dict[str, float]:
        """Every timer not yet run, by due time (seconds)."""
        pairs = cast(list[tuple[str, float]],
                     await self.redis.zrange(self.key, 0, -1, withscores=True))
        return {member: score / 1000 for member, score in pairs}

    async def run_due(self) -> int:
        """Run the timers due now; returns how many ran."""
        now_ms = int(self.clock() * 1000)
        retry_ms = now_ms + RETRY_AFTER_MS
        ran = 0
        due, earliest = await self._take_due(keys=[self.key], args=[now_ms, retry_ms, BATCH])
        # A full batch leaves more due now: the next look is at once.
        self._next_due = now_ms / 1000 if len(due) == BATCH else \
            None if earliest is None else float(earliest) / 1000
        for member in due:
            kind, _, argument = str(member).partition("|")
            handler = self.handlers.get(kind)
            if handler is None:
                log.error("timer %s: no engine part handles %r; dropped", member, kind)
            else:
                try:
                    await handler(argument)
                except Exception:
                    log.exception("timer %s failed; tried again in %ds", member,
                                  RETRY_AFTER_MS // 1000)
                    continue
                ran += 1
            await self._done(keys=[self.key], args=[str(member), retry_ms])
        return ran

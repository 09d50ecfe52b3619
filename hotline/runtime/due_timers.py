"""Timers that outlive the process: what an agent or a call waits for (a wrap-up's
end) is a due time in Redis, and any engine runs it when it falls due.

One sorted set holds `kind|argument` by due time. Taking a due timer moves it to a
retry time in the same script, so each runs once: if the engine that took it dies
before it is done, it falls due again and a peer runs it. Handlers are idempotent
(a compare-and-set underneath), which makes a run after such a crash harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import cast

from redis.asyncio import Redis

from hotline.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)

TICK = 0.25  # seconds between looks: a timer runs at most this late
RETRY_AFTER_MS = 30_000  # a timer taken by an engine that died is run again after this
BATCH = 100

Handler = Callable[[str], Awaitable[None]]

# The due timers, each moved to its retry time (score) as it is taken.
_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, member in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return due
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

    def on(self, kind: str, handler: Handler) -> None:
        self.handlers[kind] = handler

    def start(self) -> None:
        async def round() -> None:
            await self.run_due()
        self.supervisor.every("due timers", TICK, round)

    async def at(self, kind: str, argument: str, due: float) -> None:
        """Run `kind`'s handler with `argument` at `due` (seconds); setting the same
        timer again moves it."""
        await self.redis.zadd(self.key, {f"{kind}|{argument}": int(due * 1000)})

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
        for member in await self._take_due(keys=[self.key],
                                           args=[now_ms, retry_ms, BATCH]):
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

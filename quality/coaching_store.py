"""Listen-ins in Redis: the supervisors' asks, each session's state, and its audit log.

Keys carry the hash tag `{coach}`:
- `asks`, a stream the web side appends to and the engines read as one consumer group,
  so exactly one engine acts on each ask (trimmed to the last `ASKS_KEPT`);
- `session:<id>`, what the page shows: asked, ringing, on, refused, not answered, ended
  (kept `SESSION_KEPT`);
- `verdict:<id>`, the engine's first answer, for the page that waits for it (a minute);
- `on:<call id>`, the sessions listening to a call, for cutting them off (a day);
- `log`, who listened to which call, how and how long: trimmed at `LOG_KEPT_DAYS` by
  Redis's own clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

ASKS_KEPT = 1000
SESSION_KEPT = 86400
VERDICT_KEPT = 60
LOG_KEPT_DAYS = 400
GROUP = "engines"

# A session ends once: the first engine to hear its channel hang up (every engine hears
# it) writes the end and the log entry; the others find it ended. KEYS: the session, the
# log, the call's listeners, the session's verdicts (for a page waiting on the end).
# ARGV: now, log retention (ms), why (unless the session says why it was ended: from
# the page, or cut off for a secret), how long a verdict is kept.
_ENDED = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'ended' or state == 'refused' or state == 'not answered' then
  return 0
end
local answered = tonumber(redis.call('HGET', KEYS[1], 'answered_at') or '')
local seconds = answered and string.format('%.1f', tonumber(ARGV[1]) - answered) or '0'
local why = redis.call('HGET', KEYS[1], 'end_asked') or ARGV[3]
redis.call('HSET', KEYS[1], 'state', 'ended', 'ended_at', ARGV[1], 'seconds', seconds,
           'why', why)
local f = redis.call('HGETALL', KEYS[1])
local s = {}
for i = 1, #f, 2 do s[f[i]] = f[i + 1] end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[2], 'MINID', now_ms - tonumber(ARGV[2]), '*', 'at', ARGV[1],
           'who', s['by'] or '', 'call', s['call_id'] or '', 'agent', s['agent'] or '',
           'mode', s['mode'] or '', 'seconds', seconds, 'how', why)
redis.call('SREM', KEYS[3], s['id'] or '')
redis.call('RPUSH', KEYS[4], 'ended')
redis.call('EXPIRE', KEYS[4], ARGV[4])
return 1
"""

# An ask refused, or never answered: in the log too, with no time spent.
_LOGGED = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('XADD', KEYS[1], 'MINID', now_ms - tonumber(ARGV[1]), '*',
                  unpack(ARGV, 2))
"""


@dataclass(frozen=True, slots=True)
class Ask:
    entry_id: str  # the stream's, to acknowledge
    kind: str  # "listen" (a new session) or "end"
    session_id: str
    fields: dict[str, str]


class CoachingStore:
    def __init__(self, redis: Redis, prefix: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.base = f"{prefix}{{coach}}"
        self.clock = clock
        self._ended = redis.register_script(_ENDED)
        self._logged = redis.register_script(_LOGGED)

    @property
    def asks_key(self) -> str:
        return f"{self.base}:asks"

    @property
    def log_key(self) -> str:
        return f"{self.base}:log"

    def session_key(self, session_id: str) -> str:
        return f"{self.base}:session:{session_id}"

    def _verdict(self, session_id: str) -> str:
        return f"{self.base}:verdict:{session_id}"

    def _on(self, call_id: str) -> str:
        return f"{self.base}:on:{call_id}"

    # --- the web side ----------------------------------------------------------------

    async def ask(self, session_id: str, by: str, phone: str, call_id: str,
                  mode: str) -> None:
        now = f"{self.clock():.3f}"
        fields = {"id": session_id, "by": by, "phone": phone, "call_id": call_id,
                  "mode": mode, "state": "asked", "asked_at": now}
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(self.session_key(session_id), mapping=cast(Any, fields))
            tx.expire(self.session_key(session_id), SESSION_KEPT)
            tx.xadd(self.asks_key, {"kind": "listen", "session": session_id, "at": now},
                    maxlen=ASKS_KEPT, approximate=True)
            tx.expire(self.asks_key, SESSION_KEPT)
            await tx.execute()

    async def ask_end(self, session_id: str) -> None:
        await self.redis.xadd(self.asks_key, {"kind": "end", "session": session_id,
                                              "at": f"{self.clock():.3f}"},
                              maxlen=ASKS_KEPT, approximate=True)

    async def verdict(self, session_id: str, timeout: float) -> dict[str, str]:
        """The session once the engine decided on it (or as it stands after `timeout`)."""
        await self.redis.blpop([self._verdict(session_id)], timeout=timeout)
        return await self.session(session_id)

    async def session(self, session_id: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(self.session_key(session_id)))

    async def log(self, count: int = 50) -> list[dict[str, str]]:
        entries = cast(list[tuple[str, dict[str, str]]],
                       await self.redis.xrevrange(self.log_key, count=count))
        return [dict(fields) for _, fields in entries]

    # --- the engines -----------------------------------------------------------------

    async def take(self, consumer: str, block_ms: int) -> list[Ask]:
        """The next asks for this engine, blocking up to `block_ms`."""
        try:
            answer = await self.redis.xreadgroup(GROUP, consumer, {self.asks_key: ">"},
                                                 count=10, block=block_ms)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self._make_group()
            return []
        asks = []
        for _, entries in cast(list[tuple[str, list[tuple[str, dict[str, str]]]]],
                               answer or []):
            for entry_id, fields in entries:
                asks.append(Ask(entry_id, fields.get("kind", ""), fields.get("session", ""),
                                dict(fields)))
        return asks

    async def _make_group(self) -> None:
        try:
            # From the first ask kept: one older than an engine cares for is answered
            # "too late" by the engine (`hotline.coaching`), not acted on.
            await self.redis.xgroup_create(self.asks_key, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        await self.redis.expire(self.asks_key, SESSION_KEPT)

    async def done(self, ask: Ask) -> None:
        await self.redis.xack(self.asks_key, GROUP, ask.entry_id)

    async def decided(self, session_id: str, state: str, listened_call: str = "",
                      **fields: str) -> None:
        """The engine's verdict: `ringing` (with `listened_call` among the calls being
        listened to), or `refused`."""
        key = self.session_key(session_id)
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(key, mapping=cast(Any, {"state": state, **fields}))
            tx.rpush(self._verdict(session_id), state)
            tx.expire(self._verdict(session_id), VERDICT_KEPT)
            if listened_call:
                tx.sadd(self._on(listened_call), session_id)
                tx.expire(self._on(listened_call), SESSION_KEPT)
            await tx.execute()

    async def refused(self, session: dict[str, str], reason: str, said: str) -> None:
        await self.decided(session["id"], "refused", reason=reason, said=said)
        await self._log(session, how=f"refused: {reason}")

    async def answered(self, session_id: str, channel: str) -> None:
        key = self.session_key(session_id)
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(key, mapping={"state": "on", "answered_at": f"{self.clock():.3f}",
                                  "channel": channel})
            # Never a session without an end: one that lapsed meanwhile goes again.
            tx.expire(key, SESSION_KEPT)
            await tx.execute()

    async def not_answered(self, session_id: str, reason: str) -> None:
        session = await self.session(session_id)
        if not session or session.get("state") != "ringing":
            return
        await self.redis.hset(self.session_key(session_id),
                              mapping={"state": "not answered", "said": reason})
        await self.redis.srem(self._on(session.get("call_id", "")), session_id)
        await self._log(session, how="not answered")

    async def end_asked(self, session_id: str, why: str) -> None:
        """The session is to end (`why`): its phone is hung up now, or when answered."""
        await self.redis.hset(self.session_key(session_id), "end_asked", why)

    async def ended(self, session_id: str, why: str) -> bool:
        """False when it had ended already (another engine wrote it)."""
        call_id = await self.redis.hget(self.session_key(session_id), "call_id") or ""
        return bool(await self._ended(
            keys=[self.session_key(session_id), self.log_key, self._on(str(call_id)),
                  self._verdict(session_id)],
            args=[f"{self.clock():.3f}", LOG_KEPT_DAYS * 86400 * 1000, why, VERDICT_KEPT]))

    async def listening_to(self, call_id: str) -> list[dict[str, str]]:
        """The sessions on a call now (ringing or on)."""
        ids = [str(i) for i in await self.redis.smembers(self._on(call_id))]
        sessions = [await self.session(i) for i in ids]
        return [s for s in sessions if s.get("state") in ("ringing", "on")]

    async def _log(self, session: dict[str, str], how: str) -> None:
        await self._logged(keys=[self.log_key], args=[
            LOG_KEPT_DAYS * 86400 * 1000, "at", f"{self.clock():.3f}",
            "who", session.get("by", ""), "call", session.get("call_id", ""),
            "agent", session.get("agent", ""), "mode", session.get("mode", ""),
            "seconds", "0", "how", how])

"""Call records in Redis: who called, who serves the call, and every step of it.

Keys of one call share the hash tag `{call id}`, so a MULTI over them also runs on
Redis Cluster.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

from redis.asyncio import Redis

from pbx.agi import AgiResult
from pbx.ports import Call


@dataclass(frozen=True, slots=True)
class CallKeys:
    record: str
    steps: str
    owner: str


# The claim (one engine instance per call, again for the same one) and the opening of
# the call's record. A caller back from an unanswered agent keeps the first start.
# Returns 1 for the owner, else who owns the call.
CLAIM_AND_OPEN = """
local won = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
if not won then
  local owner = redis.call('GET', KEYS[1])
  if owner ~= ARGV[1] then return owner end
end
redis.call('HSET', KEYS[2], 'call_id', ARGV[4], 'channel', ARGV[5], 'caller_number', ARGV[6],
           'caller_name', ARGV[7], 'dialled_number', ARGV[8], 'instance', ARGV[1], 'open', '1')
if ARGV[10] == '1' then redis.call('HSET', KEYS[2], 'entry', ARGV[9]) end
redis.call('HSETNX', KEYS[2], 'started', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""

# Ownership moves from a dead engine to a live one, exactly once: only while the dead
# one still owns the call.
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
redis.call('HSET', KEYS[2], 'instance', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'adoptions', 1)
return 1
"""

# A write about the call by the engine that owns it, and by no other: an engine that
# lost its lease cannot close a call a peer now serves.
_IF_OWNER = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
"""


# Steps appended to the call's journal; the journal expires with the record, its
# expiry set with the first steps (one command per write, not a transaction of four).
# ARGV: the time kept (seconds), then the entries.
_STEPS = """
if redis.call('RPUSH', KEYS[1], unpack(ARGV, 2)) == #ARGV - 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
"""


# The owner, the record and the journal of one call, in one round trip.
_SNAPSHOT = """
return {redis.call('GET', KEYS[1]) or '', redis.call('HGETALL', KEYS[2]),
        redis.call('LRANGE', KEYS[3], 0, -1)}
"""


class CallSnapshot(NamedTuple):
    owner: str | None
    record: dict[str, str]
    steps: list[dict[str, Any]]


class CallLog:
    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float],
                 ttl: int) -> None:
        self.redis = redis
        self._claim_and_open = redis.register_script(CLAIM_AND_OPEN)
        self._take_over = redis.register_script(_TAKE_OVER)
        self._if_owner = redis.register_script(_IF_OWNER)
        self._steps = redis.register_script(_STEPS)
        self._snapshot = redis.register_script(_SNAPSHOT)
        self.prefix = prefix
        self.clock = clock
        self.ttl = ttl

    def keys(self, call_id: str) -> CallKeys:
        base = f"{self.prefix}call:{{{call_id}}}"
        return CallKeys(record=base, steps=f"{base}:steps", owner=f"{base}:owner")

    async def owner(self, call_id: str) -> str | None:
        value = await self.redis.get(self.keys(call_id).owner)
        return None if value is None else str(value)

    async def claim_and_open(self, call: Call, instance_id: str,
                             entry: str | None = "") -> str | None:
        """Claim the call for `instance_id` (again, for its owner) and open its record,
        in one round trip: the caller's wait for an agent starts after it. Returns None
        when the call is `instance_id`'s, else its owner. `entry`: what the dialplan
        said the call is (its AGI arguments), for an engine that adopts it; None keeps
        the one on record."""
        won = await self._claim_and_open(*self.claim_keys_args(call, instance_id, entry))
        return None if won == 1 else str(won)

    def claim_keys_args(self, call: Call, instance_id: str, entry: str | None
                        ) -> tuple[list[str], list[str | int]]:
        """The claim script's (`CLAIM_AND_OPEN`) keys and arguments."""
        keys = self.keys(call.call_id)
        return ([keys.owner, keys.record],
                [instance_id, self.ttl, self._now_ms(), call.call_id, call.channel,
                 call.caller_number, call.caller_name, call.dialled_number, entry or "",
                 "0" if entry is None else "1"])

    async def take_over(self, call_id: str, dead: str, instance_id: str) -> bool:
        """Move the call from the dead engine `dead` to `instance_id`; False when
        another engine took it first."""
        keys = self.keys(call_id)
        return bool(await self._take_over(keys=[keys.owner, keys.record],
                                          args=[dead, instance_id]))

    async def note(self, call_id: str, instance_id: str, **fields: str) -> bool:
        """Fields of the record written by the call's owner only; False when
        `instance_id` does not own the call (any more)."""
        keys = self.keys(call_id)
        flat = [item for pair in fields.items() for item in pair]
        return bool(await self._if_owner(keys=[keys.owner, keys.record],
                                         args=[instance_id, *flat]))

    async def append_steps(self, call_id: str, entries: list[str]) -> None:
        """Journal entries (`entry`), in order, after those stored."""
        await self._steps(keys=[self.keys(call_id).steps], args=[self.ttl, *entries])

    async def rewrite_steps(self, call_id: str,
                            steps: list[tuple[str, AgiResult | None, str]]) -> None:
        """The whole journal at once, in place of what was stored: for a call whose
        steps could not all be written while Redis was away. The steps keep the time
        they are written, not the time they happened."""
        keys = self.keys(call_id)
        async with self.redis.pipeline(transaction=True) as tx:
            tx.delete(keys.steps)
            if steps:
                tx.rpush(keys.steps, *(self.entry(*step) for step in steps))
                tx.expire(keys.steps, self.ttl)
            await tx.execute()

    def entry(self, command: str, result: AgiResult | None, error: str = "") -> str:
        """One journal entry, stamped now."""
        entry: dict[str, Any] = {"at": self._now_ms(), "command": command}
        if result is not None:
            entry["code"] = result.code
            entry["result"] = result.result
            if result.data:
                entry["data"] = result.data
        if error:
            entry["error"] = error
        return json.dumps(entry, ensure_ascii=False)

    async def closed(self, call_id: str, outcome: str, instance_id: str, *,
                     resumed: bool = False) -> bool:
        """The session is over, in the owner's words; False when `instance_id` lost
        the call. `resumed`: the caller is still in AGI and will be resumed (the
        record stays open for the engine that does)."""
        return await self.note(call_id, instance_id, ended=str(self._now_ms()),
                               outcome=outcome, open="1" if resumed else "")

    async def record(self, call_id: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(self.keys(call_id).record))

    async def snapshot(self, call_id: str) -> CallSnapshot:
        """`owner`, `record` and `steps` at one moment, in one round trip."""
        keys = self.keys(call_id)
        owner, flat, steps = await self._snapshot(keys=[keys.owner, keys.record, keys.steps])
        return CallSnapshot(str(owner) or None, dict(zip(flat[::2], flat[1::2], strict=True)),
                            [json.loads(item) for item in steps])

    async def steps(self, call_id: str) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(self.keys(call_id).steps, 0, -1)
        return [json.loads(item) for item in raw]

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

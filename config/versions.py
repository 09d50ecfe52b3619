"""Config versions in Redis: every activated version kept with its time, author and
content hash; one active pointer that every engine instance follows.

Keys share the hash tag `{config}`, so the one MULTI that activates a version also runs
on Redis Cluster. Engines learn of a change by pub/sub (fast) and by re-reading the
active pointer on a timer (pub/sub is at-most-once).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from config.loader import ConfigError, Loaded, load_text


@dataclass(frozen=True, slots=True)
class Version:
    number: int
    sha256: str
    author: str
    activated_at: float  # unix time of its first activation
    source: str  # the file name it came from
    text: str


@dataclass(frozen=True, slots=True)
class Activation:
    version: Version
    loaded: Loaded
    changed: bool  # False when that exact text was already active


class NothingToRollBack(Exception):
    pass


# Activation is one script: two engines that see the same file change at once must not
# both create a version, and the active pointer, history and notice move together.
_ACTIVATE = """
local number = redis.call('HGET', KEYS[5], ARGV[1])
if number and redis.call('GET', KEYS[2]) == number then
  return {number, 0}
end
if not number then
  number = tostring(redis.call('INCR', KEYS[1]))
  redis.call('HSET', KEYS[6], number, ARGV[2])
  redis.call('HSET', KEYS[5], ARGV[1], number)
end
redis.call('SET', KEYS[2], number)
redis.call('RPUSH', KEYS[3], number)
local entry = cjson.decode(ARGV[3])
entry['version'] = tonumber(number)
redis.call('RPUSH', KEYS[4], cjson.encode(entry))
redis.call('PUBLISH', ARGV[4], number)
return {number, 1}
"""

_ROLLBACK = """
if redis.call('LLEN', KEYS[1]) < 2 then
  return false
end
redis.call('RPOP', KEYS[1])
local number = redis.call('LINDEX', KEYS[1], -1)
redis.call('SET', KEYS[2], number)
local entry = cjson.decode(ARGV[1])
entry['version'] = tonumber(number)
entry['sha256'] = cjson.decode(redis.call('HGET', KEYS[4], number))['sha256']
redis.call('RPUSH', KEYS[3], cjson.encode(entry))
redis.call('PUBLISH', ARGV[2], number)
return number
"""


class ConfigVersions:
    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float]) -> None:
        self.redis = redis
        self.clock = clock
        base = f"{prefix}{{config}}"
        self.seq_key = f"{base}:seq"
        self.active_key = f"{base}:active"
        self.stack_key = f"{base}:activations"  # version numbers, current last
        self.log_key = f"{base}:log"  # every activation and rollback, for audit
        self.by_hash_key = f"{base}:by-hash"
        self.versions_key = f"{base}:versions"  # number -> the version, as JSON
        self.channel = f"{base}:changed"
        self._activate = redis.register_script(_ACTIVATE)
        self._rollback = redis.register_script(_ROLLBACK)

    async def activate(self, text: str, *, author: str, source: str) -> Activation:
        """Validate and make `text` the active version. An invalid text raises
        ConfigError and changes nothing."""
        loaded = load_text(text, source)
        now = self.clock()
        record = json.dumps({"sha256": loaded.sha256, "author": author, "activated_at": now,
                             "source": source, "text": text}, ensure_ascii=False)
        number, changed = await self._activate(
            keys=[self.seq_key, self.active_key, self.stack_key, self.log_key,
                  self.by_hash_key, self.versions_key],
            args=[loaded.sha256, record, self._log_entry("activate", author, loaded.sha256),
                  self.channel])
        version = await self.get(int(number))
        assert version is not None
        return Activation(version, loaded, changed=bool(int(changed)))

    async def rollback(self, *, author: str) -> Version:
        """Back to the version that was active before the current one."""
        number = await self._rollback(
            keys=[self.stack_key, self.active_key, self.log_key, self.versions_key],
            args=[self._log_entry("rollback", author, ""), self.channel])
        if number is None:
            raise NothingToRollBack("no earlier version to roll back to")
        version = await self.get(int(number))
        assert version is not None
        return version

    async def active(self) -> Version | None:
        number = await self.active_number()
        return None if number is None else await self.get(number)

    async def active_number(self) -> int | None:
        number = await self.redis.get(self.active_key)
        return None if number is None else int(number)

    async def get(self, number: int) -> Version | None:
        raw = await self.redis.hget(self.versions_key, str(number))
        if raw is None:
            return None
        return Version(number=number, **json.loads(raw))

    async def history(self) -> list[dict[str, object]]:
        return [json.loads(item) for item in await self.redis.lrange(self.log_key, 0, -1)]

    def _log_entry(self, what: str, author: str, sha256: str) -> str:
        return json.dumps({"at": self.clock(), "what": what, "author": author,
                           "sha256": sha256})


__all__ = ["Activation", "ConfigError", "ConfigVersions", "NothingToRollBack", "Version"]

"""Whole-call recordings: what each file is, and whether it is what the call needs.

The target is zero calls without a recording: every call's file is checked after the
hangup, and a missing, empty or short one raises an alarm and a counter.
"""

from __future__ import annotations

import hashlib
import json
import wave
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from redis.asyncio import Redis

HEADER_BYTES = 44  # a WAV with no audio at all


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class RecordingFacts:
    path: str
    size: int
    duration: float  # seconds
    sha256: str


def inspect(path: Path) -> RecordingFacts | None:
    """The file's size, length and checksum; None when there is no file."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        with wave.open(str(path)) as audio:
            duration = audio.getnframes() / audio.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError):
        duration = 0.0
    return RecordingFacts(str(path), len(data), duration, hashlib.sha256(data).hexdigest())


def verify(entry: dict[str, str]) -> list[str]:
    """Is the indexed file still there, and still the same bytes?"""
    facts = inspect(Path(entry.get("path", "")))
    if facts is None:
        return ["the file is gone"]
    if facts.sha256 != entry.get("sha256"):
        return ["the file changed since it was indexed (checksum differs)"]
    return []


def problems(facts: RecordingFacts | None, call_seconds: float,
             tolerance: float = 2.0) -> list[str]:
    """What is wrong with a call's recording; empty when it is whole."""
    if facts is None:
        return ["the recording file is missing"]
    if facts.size <= HEADER_BYTES:
        return ["the recording is empty"]
    if facts.duration + tolerance < call_seconds:
        return [f"the recording lasts {facts.duration:.1f}s of a {call_seconds:.1f}s call"]
    return []


class RecordingIndex:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.base = f"{prefix}{{quality}}"
        self.alarms_key = f"{self.base}:alarms:bad_recording"

    def key(self, call_id: str) -> str:
        return f"{self.base}:recording:{call_id}"

    async def store(self, call_id: str, details: dict[str, str],
                    facts: RecordingFacts | None, mutes: list[tuple[float, float]],
                    issues: list[str]) -> None:
        entry = {**details, "mutes": json.dumps(mutes), "problems": json.dumps(issues)}
        if facts is not None:
            entry |= {k: str(v) for k, v in asdict(facts).items()}
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(self.key(call_id), mapping=cast(Any, entry))  # redis-py: invariant keys
            tx.zadd(f"{self.base}:recordings", {call_id: float(details.get("ended", 0))})
            if issues:
                tx.incr(self.alarms_key)
            await tx.execute()

    async def entry(self, call_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.key(call_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def newest(self, limit: int = 50) -> list[dict[str, str]]:
        ids = await self.redis.zrevrange(f"{self.base}:recordings", 0, limit - 1)
        return [await self.entry(_text(i)) for i in ids if isinstance(i, bytes | str)]

    async def alarms(self) -> int:
        return int(await self.redis.get(self.alarms_key) or 0)

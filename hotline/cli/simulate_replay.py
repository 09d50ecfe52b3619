"""Where `hotline simulate --replay` finds a past day: the engine's own records in Redis
(`--replay 2026-12-01`, `today`, `yesterday`), or an Asterisk-format queue_log file."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import zoneinfo
from pathlib import Path

from redis.exceptions import RedisError

from hotline.queues.stats import SERVED_DAYS, served_records
from hotline.runtime.redis_client import connect
from hotline.runtime.redis_url import redacted
from hotline.settings import Settings
from routing.replay import Replay, Served, from_queue_log, from_record, replay

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class NoDay(Exception):
    """The day to replay cannot be read: the words say why."""


def is_day(source: str) -> bool:
    return source in ("today", "yesterday") or bool(DAY.match(source))


def the_day(source: str, timezone: str, now: dt.datetime | None = None) -> dt.date:
    today = (now or dt.datetime.now(zoneinfo.ZoneInfo(timezone))).date()
    if source == "today":
        return today
    if source == "yesterday":
        return today - dt.timedelta(days=1)
    return dt.date.fromisoformat(source)


def load(source: str, timezone: str, interval: float, seed: int,
         settings: Settings) -> tuple[Replay, str]:
    """The day's replay, and a line saying what was read."""
    if is_day(source):
        day = the_day(source, timezone)
        try:
            served = asyncio.run(_recorded(day, timezone, settings))
        except RedisError as exc:
            raise NoDay(f"Redis at {redacted(settings.redis_url)} does not answer ({exc}): "
                        "start it, or fix HOTLINE_REDIS_URL") from exc
        if not served:
            raise NoDay(f"no caller recorded on {day} in {redacted(settings.redis_url)} (prefix "
                        f"{settings.key_prefix!r}): the engine keeps {SERVED_DAYS} days of "
                        "records")
        return replay(served, interval, seed), f"{len(served)} record(s) of {day}"
    path = Path(source)
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            logged = from_queue_log(lines)
    except OSError as exc:
        raise NoDay(f"{source}: {exc.strerror}") from exc
    if not logged.served:
        raise NoDay(f"{source}: no caller who entered a queue and left it")
    skipped = f", {logged.skipped} line(s) skipped" if logged.skipped else ""
    return (replay(logged.served, interval, seed, logged.duty or None),
            f"{len(logged.served)} caller(s) from {source}{skipped}")


async def _recorded(day: dt.date, timezone: str, settings: Settings) -> list[Served]:
    """The callers who arrived on `day` (in the hotline's time zone): those whose time
    in the queues ended that day or, past midnight, the next."""
    zone = zoneinfo.ZoneInfo(timezone)
    opens = dt.datetime.combine(day, dt.time(), zone).timestamp()
    closes = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).timestamp()
    redis = connect(settings.redis_url)
    try:
        entries = [entry for d in (day, day + dt.timedelta(days=1))
                   for entry in await served_records(redis, settings.key_prefix, d.isoformat())]
    finally:
        await redis.aclose()
    served = []
    for entry in entries:
        try:
            record = from_record(entry)
        except (KeyError, ValueError):
            continue  # not a record this version writes
        if opens <= record.arrived < closes:
            served.append(record)
    return served

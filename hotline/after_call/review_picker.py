"""Each month, the calls to review: once the month is over, the first engine to look
picks the previous month's (`quality.review.pick`) from the recording index and stores
the pick; every other engine finds it stored. Looked at hourly, so an engine that was
down at midnight picks when it is back."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable

from config.model import HotlineConfig
from hotline.runtime.supervisor import Supervisor
from quality.recording_index import RecordingIndex
from quality.review import month_bounds, month_of, pick, previous_month
from quality.review_store import ReviewStore

log = logging.getLogger(__name__)

LOOK_EVERY = 3600.0


class ReviewPicker:
    def __init__(self, index: RecordingIndex, store: ReviewStore,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 key: bytes, supervisor: Supervisor) -> None:
        self.index = index
        self.store = store
        self.config = config
        self.clock = clock
        self.key = key
        self.supervisor = supervisor

    def start(self) -> None:
        # At start too: an engine restarted more often than hourly still picks.
        self.supervisor.spawn(self.pick_last_month(), "the monthly review's pick")
        self.supervisor.every("the monthly review's pick", LOOK_EVERY, self.pick_last_month)

    async def pick_last_month(self) -> None:
        zone = zoneinfo.ZoneInfo(self.config().calendar.timezone)
        month = previous_month(month_of(self.clock(), zone))
        if not await self.store.is_picked(month):
            await self.pick_month(month)

    async def pick_month(self, month: str) -> dict[str, list[str]]:
        """The month's pick, made now unless it was made before; returns the stored one."""
        config = self.config()
        start, end = month_bounds(month, zoneinfo.ZoneInfo(config.calendar.timezone))
        entries = await self.index.ended_between(int(start * 1000), int(end * 1000))
        chosen = pick(entries, month, self.key, config.review.calls_per_agent)
        if await self.store.store_pick(month, chosen):
            log.info("review %s: picked %d call(s) of %d agent(s)", month,
                     sum(map(len, chosen.values())), len(chosen))
        return await self.store.picked(month)

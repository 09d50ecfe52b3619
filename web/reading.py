"""Reading what the pages show out of Redis, through the stores the engines write with:
the active config version, every agent and line, today's figures, and a caller's
details for the screen pop. Nothing is kept here but the parsed config."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import replace

from redis.asyncio import Redis

from config.loader import ConfigError, load_text
from config.model import HotlineConfig
from config.versions import ConfigVersions
from hotline.billing.live_backend import Billing
from hotline.calls.records import CallLog
from hotline.queues.queue_log import QueueLog
from hotline.queues.stats import QueueStats
from hotline.runtime.supervisor import Supervisor
from ivr.billing import BillingUnavailable
from quality.recording_index import RecordingIndex
from quality.survey_jobs import SurveyJobs
from routing.stats import ALL_TIERS, QueueFigures
from routing.store import RoutingStore
from web.chart import MINUTES, NOTE_KEPT, last_hour, note
from web.floor import AgentNow, Floor, Minute, ScreenPop, floor, screen_pop

log = logging.getLogger(__name__)

BILLING_WAIT = 1.0  # seconds: a slow billing backend must not hold the screen pop


class NoConfig(RuntimeError):
    """No config version is active: no engine has served yet."""


class Reader:
    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float]) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self.routing = RoutingStore(redis, prefix)
        self.versions = ConfigVersions(redis, prefix, clock)
        self.stats = QueueStats(redis, prefix, clock, lambda: self._timezone,
                                QueueLog(None, clock, Supervisor()))
        self.recordings = RecordingIndex(redis, prefix)
        self.surveys = SurveyJobs(redis, prefix)
        self.calls = CallLog(redis, prefix, clock, ttl=0)  # read only: no ttl is set
        # The web side never redeems a voucher: no secret is needed to read an account.
        self.billing = Billing(redis, prefix, b"", clock)
        self._timezone = "Asia/Shanghai"
        self._config: tuple[int, HotlineConfig] | None = None
        self._noted = 0  # the minute this process last noted

    async def config(self) -> HotlineConfig:
        """The active version, parsed once per version."""
        number = await self.versions.active_number()
        if number is None:
            raise NoConfig("no config version is active yet: start an engine "
                           "(`hotline serve`) with the routing YAML")
        if self._config is None or self._config[0] != number:
            version = await self.versions.get(number)
            if version is None:
                raise NoConfig(f"config version {number} is active but not stored")
            try:
                parsed = load_text(version.text, version.source).config
            except ConfigError as exc:  # an engine activated it, so this is unlikely
                raise NoConfig(f"config version {number} does not load: {exc}") from exc
            self._config = (number, parsed)
            self._timezone = parsed.calendar.timezone
        return self._config[1]

    async def floor_and_hour(self) -> Floor:
        """The floor, noted for its minute, with the last hour."""
        board = await self.floor()
        await self.note_minute(board)
        return replace(board, hour=await self.last_hour())

    async def floor(self) -> Floor:
        config = await self.config()
        queues = list(config.queues)
        agents = await self.routing.agents_in(list(config.agents))
        lines = await self.routing.view.waiting_in(queues)
        day = self.stats.day()
        wanted = [(q, t) for q in queues for t in [ALL_TIERS, *config.vip.tiers]]
        async with self.redis.pipeline(transaction=False) as pipe:
            for queue, tier in wanted:
                pipe.hgetall(self.stats.key(day, queue, tier))
            raw = await pipe.execute()
        figures = {pair: QueueFigures.from_counters(fields)
                   for pair, fields in zip(wanted, raw, strict=True)}
        return floor(config, agents, lines, figures, self.clock())

    # --- the last hour, one note a minute (`web.chart`) ---------------------------------

    def _minute_key(self, minute: int) -> str:
        return f"{self.prefix}{{web}}:minute:{minute}"

    async def note_minute(self, board: Floor) -> None:
        """The floor's note for this minute, once: the first web process to read the
        floor in a minute writes it, any other finds it written."""
        minute = int(self.clock() // 60)
        if minute != self._noted:
            await self.redis.set(self._minute_key(minute), note(board), nx=True, ex=NOTE_KEPT)
            self._noted = minute

    async def last_hour(self) -> list[Minute]:
        now = int(self.clock() // 60)
        minutes = list(range(now - MINUTES, now + 1))  # one before the hour, for its first
        found = await self.redis.mget([self._minute_key(m) for m in minutes])
        return last_hour({m: str(v) for m, v in zip(minutes, found, strict=True) if v}, now)

    # --- recordings ----------------------------------------------------------------------

    async def recordings_of_day(self, day: str, limit: int = 2000) -> list[dict[str, str]]:
        """The recordings that ended on `day` (the hotline's time zone), newest first."""
        await self.config()  # the time zone is the live version's
        zone = zoneinfo.ZoneInfo(self._timezone)
        start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), zone)
        end = start + dt.timedelta(days=1)
        ids = await self.redis.zrevrangebyscore(
            self.recordings.indexed_key, f"({int(end.timestamp() * 1000)}",
            int(start.timestamp() * 1000), start=0, num=limit)
        async with self.redis.pipeline(transaction=False) as pipe:
            for recording_id in ids:
                pipe.hgetall(self.recordings.key(str(recording_id)))
            entries = await pipe.execute()
        return [{**entry, "recording": str(i)} for i, entry in zip(ids, entries, strict=True)
                if entry]

    async def grades(self, call_ids: list[str]) -> dict[str, str]:
        """The survey grade of each call that has one."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for call_id in call_ids:
                pipe.hget(self.surveys.result_key(call_id), "grade")
            found = await pipe.execute()
        return {c: str(g) for c, g in zip(call_ids, found, strict=True) if g}

    def today(self) -> str:
        return dt.datetime.fromtimestamp(self.clock(), zoneinfo.ZoneInfo(self._timezone)) \
            .date().isoformat()

    async def agent(self, agent_id: str) -> AgentNow:
        config = await self.config()
        known = config.agents.get(agent_id)
        return AgentNow.from_record(agent_id, known.name if known else agent_id,
                                    await self.routing.agent(agent_id))

    async def screen_pop(self, call_id: str) -> ScreenPop | None:
        routed = await self.routing.call(call_id)
        if not routed:
            return None
        opened = await self.calls.record(call_id)
        number = routed.get("number") or opened.get("caller_number", "")
        account = await self._account(await self.config(), number) if number else None
        history: list[Mapping[str, str]] = []
        # This very call is left out: it may be filed already (in wrap-up).
        earlier = [e for e in (await self.recordings.calls_of(number, 6) if number else [])
                   if e.get("call_id") != call_id]
        grades = await self.grades([e.get("call_id", "") for e in earlier])
        for entry in earlier:
            grade = grades.get(entry.get("call_id", ""), "")
            history.append({"when": _local_time(entry.get("ended", ""), self._timezone),
                            "queue": entry.get("queue", ""),
                            "outcome": entry.get("outcome", ""), "grade": grade,
                            "disposition": entry.get("disposition", "")})
        return screen_pop(call_id, routed, opened, account, history[:5])

    async def _account(self, config: HotlineConfig, number: str) -> dict[str, str] | None:
        backend = self.billing.backend(config)
        try:
            async with asyncio.timeout(BILLING_WAIT):
                account = await backend.account(number)
                if account is None:
                    return None
                bill = await backend.last_bill(number)
        except (TimeoutError, BillingUnavailable) as exc:
            log.warning("screen pop: billing did not answer for a caller: %s", exc)
            return None
        shown = {"balance_fen": str(account.balance_fen), "tier": account.tier}
        if bill is not None:
            shown |= {"bill_fen": str(bill.amount_fen), "bill_due": bill.due.isoformat()}
        return shown


def _local_time(ms: str, timezone: str) -> str:
    """A moment the index keeps in ms since the epoch, as the hotline's clock showed it."""
    try:
        moment = dt.datetime.fromtimestamp(int(ms) / 1000, zoneinfo.ZoneInfo(timezone))
    except (ValueError, OSError):
        return ""
    return moment.strftime("%Y-%m-%d %H:%M")

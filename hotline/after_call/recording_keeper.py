"""Each call's recording after the hangup: filed by day and queue, checked against the
call's length, indexed; after a restart, the calls whose recording was never indexed are
swept up; recordings past their age are deleted unless flagged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from config.model import HotlineConfig
from hotline.calls.records import CallLog
from hotline.runtime.lease import EngineLease
from hotline.runtime.supervisor import Supervisor
from hotline.settings import Settings
from pbx.ami import AmiConnection, AmiError
from quality.recording_index import RecordingIndex
from quality.recordings import (
    RecordingFacts,
    file_away,
    filed_path,
    keeps,
    mute_spans,
    problems,
    retention_cutoff_ms,
)
from routing.store import RoutingStore

log = logging.getLogger(__name__)

SETTLE = 1.5  # MixMonitor closes the file a moment after the hangup
PURGE_EVERY = 3600.0


class RecordingKeeper:
    def __init__(self, index: RecordingIndex, call_log: CallLog, routing: RoutingStore,
                 settings: Settings, config: Callable[[], HotlineConfig],
                 clock: Callable[[], float], lease: EngineLease,
                 supervisor: Supervisor | None = None) -> None:
        self.index = index
        self.lease = lease
        self.call_log = call_log
        self.routing = routing
        self.settings = settings
        self.config = config
        self.clock = clock
        self.supervisor = supervisor  # None: no hourly purge (the CLI's one-off runs)

    def start(self) -> None:
        if self.supervisor is not None:
            self.supervisor.every("retention purge", PURGE_EVERY, self._purge_round)

    async def hung_up(self, call_id: str, channel: str, settle: float = SETTLE) -> None:
        """The caller hung up (the menu may have ended long before, at an agent)."""
        try:
            owner = await self.call_log.owner(call_id)
            if owner is None or not await self._ours(call_id, owner):
                return  # a live peer's, or not a hotline call at all
            record = await self.call_log.record(call_id)
            if record.get("channel") != channel:
                # Not the caller's channel: a customer's callback leg ending, or an event
                # forged in a caller ID. The caller's own hangup files the recording.
                return
            if "sha256" in await self.index.entry(call_id):
                return  # indexed at the caller's hangup; this is their callback ending
            if owner != self.lease.instance_id and record.get("open"):
                # Its engine died with the call in hand: the record ends here.
                await self.call_log.closed(call_id, f"hung up after engine {owner} died",
                                           self.lease.instance_id)
            await self.file(call_id, int(self.clock() * 1000), settle)
        except (RedisError, KeyError, ValueError) as exc:
            log.error("call %s: recording not indexed: %s", call_id, exc)

    async def _ours(self, call_id: str, owner: str | None) -> bool:
        """This engine's to file: its own, or taken over from an engine that died (by
        exactly one of the engines that heard the hangup)."""
        me = self.lease.instance_id
        if owner == me or owner is None:
            return True
        return await self.lease.is_dead(owner) and \
            await self.call_log.take_over(call_id, owner, me)

    async def sweep_after_connect(self, ami: AmiConnection) -> None:
        """Calls that ended while no engine watched (a restart, a lost connection)
        still get their recording filed and checked."""
        try:
            response = await ami.send_action({"Action": "CoreShowChannels"})
            await self.sweep(item.get("Uniqueid", "") for item in response.events)
        except (AmiError, RedisError, KeyError, ValueError) as exc:
            log.warning("recording sweep failed: %s", exc)

    async def sweep(self, live_call_ids: Iterable[str]) -> int:
        """After a restart: index the recordings of calls that ended while no engine
        was there to do it. Calls still up are indexed at their own hangup."""
        live, swept = set(live_call_ids), 0
        for call_id in await self.index.pending(int(self.clock() * 1000)):
            if call_id in live or not await self._ours(call_id,
                                                       await self.call_log.owner(call_id)):
                continue
            record = await self.call_log.record(call_id)
            try:
                await self.file(call_id, int(record.get("ended") or record["started"]), 0.0)
                swept += 1
            except (KeyError, ValueError) as exc:  # its call record expired long ago
                log.error("call %s: recording cannot be indexed any more (%s)", call_id, exc)
                await self.index.drop_pending(call_id)
        if swept:
            log.warning("indexed %d recording(s) left over from before the restart", swept)
        return swept

    async def file(self, call_id: str, hung_up_ms: int, settle: float) -> None:
        steps = await self.call_log.steps(call_id)
        routed = await self.routing.call(call_id)
        started = next((s for s in steps if s["command"].startswith("RECORDING STARTED ")),
                       None)
        if started is None:
            if await self.index.is_pending(call_id):  # expected, and never started
                await self._store(call_id, routed, hung_up_ms, None, steps, 0, "",
                                  ["the recording did not start"])
            return
        await asyncio.sleep(settle)
        relative = Path(started["command"].split(" ", 2)[2]).relative_to(
            self.settings.recordings_dir_asterisk)
        root = Path(self.settings.recordings_dir)
        target = root / filed_path(relative.parts[0], routed.get("queue", ""), call_id)
        try:
            facts = await asyncio.to_thread(file_away, root / relative, target)
        except OSError as exc:
            log.error("call %s: recording could not be filed at %s: %s", call_id, target, exc)
            facts = None
        # Measured from when the recording started, not from when the call arrived:
        # the time before MixMonitor answered is not the recording's to cover.
        issues = problems(facts, (hung_up_ms - int(started["at"])) / 1000)
        await self._store(call_id, routed, hung_up_ms, facts, steps, int(started["at"]),
                          str(target), issues)

    async def _store(self, call_id: str, routed: dict[str, str], hung_up_ms: int,
                     facts: RecordingFacts | None, steps: list[dict[str, Any]],
                     started_at: int, target: str, issues: list[str]) -> None:
        record = await self.call_log.record(call_id)
        outcome = record.get("outcome", "")
        await self.index.store(call_id, {
            "call_id": call_id, "caller_number": record["caller_number"],
            "dialled_number": record["dialled_number"],
            "vip_tier": routed.get("tier", "normal"),
            "menu_path": routed.get("menu_path") or outcome.partition("(menu: ")[2].rstrip(")"),
            "queue": routed.get("queue", ""), "agent": routed.get("agent", ""),
            # The engine takes the call the moment Asterisk answers it.
            "started": record["started"], "answered": record["started"],
            "ended": str(hung_up_ms), "outcome": outcome},
            facts, mute_spans(steps, started_at, hung_up_ms), issues)
        if issues:
            log.error("call %s: bad recording %s: %s", call_id, target or "-", "; ".join(issues))

    async def purge(self, dry_run: bool = False) -> tuple[list[str], int]:
        """Delete recordings past the configured age, file and index entry; flagged
        ones stay. Returns the deleted call ids and how many were kept by a flag."""
        rules = self.config().recording
        cutoff = retention_cutoff_ms(self.clock(), rules.retention_days)
        deleted: list[str] = []
        kept = 0
        while batch := await self.index.ended_before(cutoff, offset=kept, limit=500):
            for call_id in batch:
                entry = await self.index.entry(call_id)
                if keeps(entry, rules.keep_flagged):
                    kept += 1
                    continue
                deleted.append(call_id)
                if not dry_run:
                    with contextlib.suppress(FileNotFoundError):
                        await asyncio.to_thread(Path(entry.get("path") or "/nonexistent").unlink)
                    await self.index.forget(call_id)
            if dry_run:
                break
        return deleted, kept

    async def _purge_round(self) -> None:
        deleted, kept = await self.purge()
        if deleted:
            log.info("retention: deleted %d recording(s), kept %d flagged", len(deleted), kept)


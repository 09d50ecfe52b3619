"""Each call's recording after the hangup: filed by day and queue, checked against the
call's length, indexed; after a restart, the calls whose recording was never indexed are
swept up; recordings past their age are deleted unless flagged.

The customer's leg of a queue callback is recorded from the moment they answer (the
dialplan starts it) and filed the same way at the leg's hangup: a recording of its own,
beside the call's, indexed with the call's id. A callback nobody answered recorded
nothing and is expected to have nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath
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
    CALLBACK_LEG,
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
            owner, record, steps = await self.call_log.snapshot(call_id)
            if owner is None or not await self._ours(call_id, owner):
                return  # a live peer's, or not a hotline call at all
            entry, leg = await self.index.at_hangup(call_id, channel)
            if leg is not None:  # the customer's callback leg ended
                await self.file_callback(leg, int(self.clock() * 1000), settle)
                return
            if record.get("channel") != channel:
                # Not the caller's channel: a callback leg that recorded nothing (never
                # answered), or an event forged in a caller ID. The caller's own hangup
                # files the recording.
                return
            if "sha256" in entry:
                return  # indexed at the caller's hangup; this is their callback ending
            if owner != self.lease.instance_id and record.get("open"):
                # Its engine died with the call in hand: the record ends here.
                await self.call_log.closed(call_id, f"hung up after engine {owner} died",
                                           self.lease.instance_id)
            await self.file(call_id, int(self.clock() * 1000), settle, steps)
        except (RedisError, KeyError, ValueError) as exc:
            log.error("call %s: recording not indexed: %s", call_id, exc)

    async def callback_answered(self, call_id: str, channel: str) -> None:
        """An Originate was answered on `channel`: when it is the callback of a customer
        kept in line, the dialplan records their leg from now on, into the file named
        when it was placed, and the recording is expected at the leg's hangup."""
        try:
            routed = await self.routing.call(call_id)
            source = routed.get("callback_recording", "")
            # Connected already, when the agent's answer was handled first.
            if not routed.get("callback") or not source or \
                    routed.get("state") not in ("offered", "connected"):
                return  # a survey, a simulated caller, or a callback not recorded
            if await self.index.callback_answered(call_id, PurePosixPath(source).stem,
                                                  int(self.clock() * 1000), channel, source):
                log.info("call %s: callback answered on %s, recorded into %s", call_id,
                         channel, source)
        except RedisError as exc:
            log.error("call %s: callback recording not expected: %s", call_id, exc)

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
        for recording_id in await self.index.pending(int(self.clock() * 1000)):
            under_way = await self.index.entry(recording_id)
            leg = under_way.get("leg") == CALLBACK_LEG
            call_id = under_way["call_id"] if leg else recording_id
            # A callback leg's channel carries the call's id.
            if call_id in live or not await self._ours(call_id,
                                                       await self.call_log.owner(call_id)):
                continue
            try:
                if leg:  # when its leg hung up is not known: only missing or empty tell
                    await self.file_callback(recording_id, None, 0.0)
                else:
                    record = await self.call_log.record(call_id)
                    await self.file(call_id, int(record.get("ended") or record["started"]),
                                    0.0)
                swept += 1
            except (KeyError, ValueError) as exc:  # its call record expired long ago
                log.error("recording %s cannot be indexed any more (%s)", recording_id, exc)
                await self.index.drop_pending(recording_id)
                if leg:  # nor listed with its call
                    await self.index.forget(recording_id)
        if swept:
            log.warning("indexed %d recording(s) left over from before the restart", swept)
        return swept

    async def file(self, call_id: str, hung_up_ms: int, settle: float,
                   steps: list[dict[str, Any]] | None = None) -> None:
        """`steps`: the call's journal, when read already."""
        if steps is None:
            steps = await self.call_log.steps(call_id)
        routed = await self.routing.call(call_id)
        started = next((s for s in steps if s["command"].startswith("RECORDING STARTED ")),
                       None)
        if started is None:
            if await self.index.is_pending(call_id):  # expected, and never started
                await self._store(call_id, routed, hung_up_ms, None,
                                  mute_spans(steps, 0, hung_up_ms), "",
                                  ["the recording did not start"])
            return
        started_at = int(started["at"])
        facts, target, issues = await self._file_away(
            call_id, started["command"].split(" ", 2)[2], routed.get("queue", ""),
            hung_up_ms - started_at, settle)
        await self._store(call_id, routed, hung_up_ms, facts,
                          mute_spans(steps, started_at, hung_up_ms), target, issues)

    async def file_callback(self, recording_id: str, hung_up_ms: int | None,
                            settle: float) -> None:
        """File and index the recording of a customer's callback leg, which hung up at
        `hung_up_ms` (None: not known, after a restart). No PIN is typed on that leg:
        nothing in it is muted."""
        under_way = await self.index.entry(recording_id)
        call_id, answered = under_way["call_id"], int(under_way["answered"])
        routed = await self.routing.call(call_id)
        facts, target, issues = await self._file_away(
            recording_id, under_way["source"], routed.get("queue", ""),
            None if hung_up_ms is None else hung_up_ms - answered, settle)
        if hung_up_ms is None:
            hung_up_ms = answered + int((facts.duration if facts else 0.0) * 1000)
        # The call record may be the leg's by now (back in AGI after the ring, it is
        # opened again): the number the call came in on is the call's entry's.
        dialled = (await self.index.entry(call_id)).get("dialled_number")
        await self._store(call_id, routed, hung_up_ms, facts, [], target, issues,
                          recording_id=recording_id, started=str(answered),
                          caller_number=routed["callback"],
                          outcome=f"called back on {routed['callback']}",
                          **({"dialled_number": dialled} if dialled else {}))

    async def _file_away(self, recording_id: str, source: str, queue: str,
                         recorded_ms: int | None, settle: float
                         ) -> tuple[RecordingFacts | None, str, list[str]]:
        """Move the closed file Asterisk wrote into `source` to its filed place and check
        it against how long it was recorded for (`recorded_ms`; None: only that it
        is there and not empty). Returns what the file is, where, and what is wrong."""
        await asyncio.sleep(settle)
        relative = Path(source).relative_to(self.settings.recordings_dir_asterisk)
        root = Path(self.settings.recordings_dir)
        target = root / filed_path(relative.parts[0], queue, recording_id)
        try:
            facts = await asyncio.to_thread(file_away, root / relative, target)
        except OSError as exc:
            log.error("recording %s could not be filed at %s: %s", recording_id, target, exc)
            facts = None
        # Measured from when the recording started, not from when the call arrived:
        # the time before MixMonitor answered is not the recording's to cover.
        return facts, str(target), problems(facts, (recorded_ms or 0) / 1000)

    async def _store(self, call_id: str, routed: dict[str, str], hung_up_ms: int,
                     facts: RecordingFacts | None, mutes: list[tuple[float, float]],
                     target: str, issues: list[str], *, recording_id: str | None = None,
                     started: str | None = None, **instead: str) -> None:
        """Index a recording of `call_id`: the call's own, or (`recording_id`) its
        callback leg's, which `started` when the customer answered; `instead`: details
        that are the leg's own."""
        record = await self.call_log.record(call_id)
        outcome = record.get("outcome", "")
        # The engine takes the call the moment Asterisk answers it.
        began = record["started"] if started is None else started
        await self.index.store(recording_id or call_id, {
            "call_id": call_id, "caller_number": record["caller_number"],
            "dialled_number": record["dialled_number"],
            "vip_tier": routed.get("tier", "normal"),
            "menu_path": routed.get("menu_path") or outcome.partition("(menu: ")[2].rstrip(")"),
            "queue": routed.get("queue", ""), "agent": routed.get("agent", ""),
            "started": began, "answered": began, "ended": str(hung_up_ms),
            # When the caller joined the line and the agent answered (s): the review's
            # timeline marks the menu, the wait and the talk with them.
            "queue_joined": routed.get("arrived_at", ""),
            "agent_answered": routed.get("answered_at", ""),
            "outcome": outcome} | instead, facts, mutes, issues)
        if issues:
            log.error("call %s: bad recording %s: %s", call_id, target or "-",
                      "; ".join(issues))

    async def purge(self, dry_run: bool = False) -> tuple[list[str], int]:
        """Delete recordings past the configured age, file and index entry; flagged
        ones stay. Returns the deleted recordings' ids (a call's, or a callback leg's)
        and how many were kept by a flag."""
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


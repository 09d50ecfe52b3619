"""`hotline recordings ...`: what a supervisor asks of the recordings."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from typing import Any

from hotline.settings import Settings


def add_recordings_parser(sub: Any) -> None:
    recordings = sub.add_parser("recordings", help="whole-call recordings")
    commands = recordings.add_subparsers(dest="recordings_command", required=True)
    listing = commands.add_parser("list", help="the newest recordings")
    listing.add_argument("--limit", type=int, default=50)
    show = commands.add_parser("show", help="one call's recordings (its own, and its "
                               "callback legs'), all each is indexed by")
    show.add_argument("call_id")
    verify = commands.add_parser("verify", help="every indexed file is there and unchanged "
                                 "(exit 1 otherwise)")
    verify.add_argument("--limit", type=int, default=1000)
    flag = commands.add_parser("flag", help="keep a call's recordings (its callback "
                               "legs' too) past retention (a complaint, a dispute)")
    flag.add_argument("call_id")
    flag.add_argument("--reason", default="dispute")
    unflag = commands.add_parser("unflag", help="let retention delete it again")
    unflag.add_argument("call_id")
    purge = commands.add_parser("purge", help="delete recordings past the live config's "
                                "retention_days now (the engine also does it hourly)")
    purge.add_argument("--dry-run", action="store_true", help="only say what would go")


async def recordings_command(args: argparse.Namespace, settings: Settings) -> int:
    from hotline.runtime.redis_client import connect
    from quality.recording_index import RecordingIndex

    redis = connect(settings.redis_url)
    index = RecordingIndex(redis, settings.key_prefix)
    try:
        match args.recordings_command:
            case "show":
                entries = await index.recordings_of(args.call_id)
                for n, entry in enumerate(entries):
                    if n:
                        print()
                    for key, value in sorted(entry.items()):
                        print(f"{key:>15}: {value}")
                return 0 if entries else 1
            case "list":
                return await _list(index, args.limit)
            case "verify":
                return await _verify(index, args.limit)
            case "flag":
                if await index.flag(args.call_id, args.reason):
                    print(f"{args.call_id}: kept past retention ({args.reason})")
                    return 0
                print(f"{args.call_id}: no recording of that call")
                return 1
            case "unflag":
                await index.unflag(args.call_id)
                print(f"{args.call_id}: retention applies again")
                return 0
            case _:
                return await _purge(redis, index, settings, args.dry_run)
    finally:
        await redis.aclose()


async def _list(index: Any, limit: int) -> int:
    entries = await index.newest(limit)
    bad = flagged = 0
    for e in entries:
        when = dt.datetime.fromtimestamp(int(e.get("started", 0)) / 1000).isoformat(
            sep=" ", timespec="seconds")
        note = ""
        if _indexed_problems(e):
            bad += 1
            note = f"  PROBLEM {e.get('problems')}"
        if e.get("flagged"):
            flagged += 1
            note += f"  FLAGGED ({e['flagged']})"
        if e.get("leg"):  # the customer's leg of a queue callback, a recording of its own
            note += f"  {e['leg'].upper()} LEG ({e.get('recording')})"
        print(f"{when}  {e.get('call_id')}  {float(e.get('duration', 0)):6.1f}s  "
              f"{e.get('caller_number')}  {e.get('queue') or '-'}  "
              f"{e.get('agent') or '-'}{note}")
    # Three different counts: say which is which, so that none reads as another.
    print(f"{len(entries)} recording(s): {bad} found bad when the call ended (PROBLEM: "
          f"missing, empty or short), {flagged} flagged to keep past retention (FLAGGED: "
          f"a complaint or dispute, not a fault); alarms so far: {await index.alarms()} "
          "(every bad recording ever, deleted ones too)")
    return 0


def _indexed_problems(entry: dict[str, str]) -> list[str]:
    """What was found wrong when the call was indexed (missing, empty, short)."""
    try:
        problems = json.loads(entry.get("problems") or "[]")
    except ValueError:
        return [str(entry.get("problems"))]
    return [str(p) for p in problems] if isinstance(problems, list) else [str(problems)]


async def _verify(index: Any, limit: int) -> int:
    """The files as they are now; exit 1 when one is gone or changed since indexing.
    Recordings already bad when indexed, and flagged ones, are counted apart: `list`
    shows them too, and they are not news."""
    from quality.recordings import verify

    entries = await index.newest(limit)
    bad = bad_at_hangup = flagged = 0
    for e in entries:
        for problem in verify(e):
            bad += 1
            print(f"{e.get('call_id')}: {problem} ({e.get('path')})")
        if indexed := _indexed_problems(e):
            bad_at_hangup += 1
            print(f"{e.get('call_id')}: already bad when indexed: {'; '.join(indexed)}")
        flagged += bool(e.get("flagged"))
    print(f"{len(entries)} recording(s) checked, {bad} problem(s) with the files now (gone, "
          f"or changed since indexing); also {bad_at_hangup} found bad when the call ended "
          f"(PROBLEM in `recordings list`) and {flagged} flagged to keep past retention "
          "(FLAGGED: not a fault)")
    return 1 if bad else 0


async def _purge(redis: Any, index: Any, settings: Settings, dry_run: bool) -> int:
    from config.loader import load_text
    from config.versions import ConfigVersions
    from hotline.after_call.recording_keeper import RecordingKeeper
    from hotline.calls.records import CallLog
    from hotline.runtime.lease import EngineLease
    from routing.store import RoutingStore

    active = await ConfigVersions(redis, settings.key_prefix, time.time).active()
    if active is None:
        print("no live config version: nothing says how long recordings are kept")
        return 1
    config = load_text(active.text, active.source).config
    keeper = RecordingKeeper(index, CallLog(redis, settings.key_prefix, time.time, 0),
                             RoutingStore(redis, settings.key_prefix), settings,
                             lambda: config, time.time,
                             EngineLease(redis, settings.key_prefix, "purge",
                                         lambda: int(time.time() * 1000)))
    deleted, kept = await keeper.purge(dry_run=dry_run)
    verb = "would delete" if dry_run else "deleted"
    print(f"{verb} {len(deleted)} recording(s) older than {config.recording.retention_days} "
          f"day(s); kept {kept} flagged")
    return 0

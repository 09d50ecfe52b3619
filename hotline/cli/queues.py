"""`hotline queues stats`: today's figures per queue and VIP tier, as a supervisor's
wallboard shows them."""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hotline.settings import Settings


def add_queues_parser(sub: Any) -> None:
    queues = sub.add_parser("queues", help="queue statistics")
    commands = queues.add_subparsers(dest="queues_command", required=True)
    stats = commands.add_parser("stats", help="offered, answered, abandoned, service level, "
                                "ASA, AHT, longest wait, agents by state")
    stats.add_argument("--day", help="YYYY-MM-DD in the hotline's time zone (default: today)")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _seconds(value: float | None) -> str:
    """Whole seconds, and tenths below 10 s: an ASA of 0.35 s reads "0.4s", not "0s"."""
    if value is None or not math.isfinite(value):
        return "-"
    # Half up, as a person rounds (binary floats would make 0.35 read 0.3).
    exact = Decimal(repr(value))
    tenths = exact.quantize(Decimal("0.1"), ROUND_HALF_UP)
    if abs(tenths) < 10:
        return f"{tenths}s"
    return f"{exact.quantize(Decimal('1'), ROUND_HALF_UP)}s"


async def queues_command(args: argparse.Namespace, settings: Settings) -> int:
    from config.loader import load_text
    from config.versions import ConfigVersions
    from hotline.queues.queue_log import QueueLog
    from hotline.queues.stats import QueueStats
    from hotline.runtime.redis_client import connect
    from hotline.runtime.supervisor import Supervisor
    from routing.stats import ALL_TIERS
    from routing.store import RoutingStore

    redis = connect(settings.redis_url)
    try:
        active = await ConfigVersions(redis, settings.key_prefix, time.time).active()
        if active is None:
            print("no live config version: no queues to report")
            return 1
        config = load_text(active.text, active.source).config
        stats = QueueStats(redis, settings.key_prefix, time.time,
                           lambda: config.calendar.timezone,
                           QueueLog(None, time.time, Supervisor()))
        store = RoutingStore(redis, settings.key_prefix)
        day = args.day or stats.day()
        print(f"{day}  queue / tier      offered answered abandoned(short)  SL  SL+abandons"
              "   ASA   AHT  waiting longest")
        for name, rules in config.queues.items():
            waiting = await store.waiting(name)
            longest = max((time.time() - c.arrived_at for c in waiting), default=None)
            for tier in [ALL_TIERS, *config.vip.tiers]:
                f = await stats.figures(day, name, tier)
                if tier != ALL_TIERS and not f.offered:
                    continue
                live = (f"{len(waiting):>8} {_seconds(longest):>7}" if tier == ALL_TIERS
                        else "")
                print(f"  {name + ' / ' + tier:<24}{f.offered:>7} {f.answered:>8} "
                      f"{f.abandoned:>6}({f.short_abandoned}){'':>6}"
                      f"{_share(f.service_level):>4} {_share(f.service_level_with_abandons):>11}"
                      f" {_seconds(f.asa):>5} {_seconds(f.aht):>5} {live}")
            print(f"{'':>4}target: {rules.service_level.target:.0%} answered within "
                  f"{rules.service_level.answered_within:g}s")
            recorded = await stats.dispositions(day, name)
            if recorded:
                print(f"{'':>4}dispositions: " + ", ".join(
                    f"{code} {count}" for code, count in recorded.items()))
        states = Counter([(await store.agent_state(a)).value for a in config.agents])
        print("agents: " + ", ".join(f"{n} {s.replace('_', ' ')}"
                                     for s, n in sorted(states.items())))
        return 0
    finally:
        await redis.aclose()

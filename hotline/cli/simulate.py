"""`hotline simulate`: a day of traffic under a routing YAML, in virtual time, before any
caller meets it (`routing.simulation`), with Erlang C beside each queue; or a past day
replayed (`--replay`); or the agents a queue needs (`hotline simulate staff`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.model import HotlineConfig
from config.traffic import Traffic
from hotline.cli.simulate_chart import sl_chart
from hotline.cli.simulate_inputs import (
    checked,
    checked_traffic,
    misfit_of,
    progress_bar,
    with_tiers,
)
from hotline.cli.simulate_replay import NoDay, load
from hotline.cli.simulate_report import as_json, compared, table
from hotline.cli.simulate_staff import add_staff_parser, staff_command
from hotline.settings import Settings
from routing.callers import on_duty
from routing.replay import Replay
from routing.simulation import Result, simulate, simulate_traffic


def add_simulate_parser(sub: Any) -> None:
    simulate_ = sub.add_parser("simulate", help="what a day of traffic meets under a YAML, "
                                                "in virtual time")
    simulate_.add_argument("--config", type=Path, help="the routing YAML")
    simulate_.add_argument("--traffic", type=Path, help="the traffic file")
    simulate_.add_argument("--replay", metavar="DAY|QUEUE_LOG",
                           help="a past day's callers instead of the traffic's: a day the "
                           "engine recorded (2026-12-01, today, yesterday) or a queue_log "
                           "file; a traffic file then only says who is on duty")
    simulate_.add_argument("--seed", type=int, default=1)
    simulate_.add_argument("--days", type=int, default=1,
                           help="days simulated, each from an empty floor, added up")
    simulate_.add_argument("--warm-up", type=float, default=0.0,
                           help="seconds from an empty floor not counted (default 0)")
    simulate_.add_argument("--json", type=Path, help="also write the figures here")
    simulate_.add_argument("--chart", type=Path, metavar="FILE.svg",
                           help="draw the SL of each queue by interval (the first YAML's)")
    simulate_.add_argument("--compare", type=Path, metavar="NEW.yaml",
                           help="the same callers under this YAML too, and the differences")
    add_staff_parser(simulate_.add_subparsers(dest="simulate_what"))


def simulate_command(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "simulate_what", None) == "staff":
        return staff_command(args, settings)
    if args.config is None or (args.traffic is None and args.replay is None):
        print("hotline simulate: give --config, and --traffic or --replay (or both)",
              file=sys.stderr)
        return 2
    config = checked(args.config)
    traffic = checked_traffic(args.traffic) if args.traffic else None
    if config is None or (args.traffic and traffic is None):
        return 1
    if traffic is not None and (traffic := with_tiers(traffic, args.traffic, config,
                                                      settings)) is None:
        return 1
    if traffic is not None and not traffic.calls and args.replay is None:
        print(f"{args.traffic}: nobody calls: give a queue per_hour or per_day, or numbers",
              file=sys.stderr)
        return 1
    day: Replay | None = None
    if args.replay:
        try:
            day, read = load(args.replay, config.calendar.timezone,
                             traffic.interval if traffic else 900.0, args.seed, settings)
        except (NoDay, ValueError) as exc:
            print(f"--replay {args.replay}: {exc}", file=sys.stderr)
            return 1
        print(read + (": on duty, the agents who answered (all day)"
                      if day.agents_assumed and traffic is None else ""))
    run = _runner(args, traffic, day)
    if (result := run(config, args.config)) is None:
        return 1
    hours = day.hours if day else traffic.hours if traffic else None
    print(table(config, result, traffic if day is None else None, hours))
    figures = as_json(result)
    if args.chart:
        args.chart.write_text(sl_chart(config, result, f"SL by interval: {args.config}"))
    if args.compare:
        other = checked(args.compare)
        if other is None or (changed := run(other, args.compare)) is None:
            return 1
        print(f"\nThe same callers under {args.compare}:")
        print(table(other, changed, traffic if day is None else None, hours))
        print(f"\n{compared(result, changed)}")
        figures = {"base": figures, "compare": as_json(changed)}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


def _runner(args: argparse.Namespace, traffic: Traffic | None,
            day: Replay | None) -> Callable[[HotlineConfig, Path], Result | None]:
    """How to run the day under a YAML (None when the YAML cannot take it)."""
    def run(config: HotlineConfig, yaml: Path) -> Result | None:
        if day is not None:
            missing = sorted({c.queue for c in day.callers} - set(config.queues))
            if missing:
                print(f"{yaml} has no queue {', '.join(missing)} (the day's callers "
                      "waited there)", file=sys.stderr)
                return None
            if traffic is not None and (misfit := misfit_of(traffic, config, yaml)):
                print(f"{args.traffic}: {misfit}", file=sys.stderr)
                return None
            duty = on_duty(traffic, config) if traffic else day.duty
            with progress_bar() as bar:
                return simulate(config, day.callers, duty, day=day.hours * 3600,
                                interval=traffic.interval if traffic else 900.0,
                                back_after_rona=traffic.back_after_rona if traffic else 60.0,
                                count_from=args.warm_up, progress=bar)
        assert traffic is not None
        if (misfit := misfit_of(traffic, config, yaml)) is not None:
            print(f"{args.traffic}: {misfit}", file=sys.stderr)
            return None
        with progress_bar() as bar:
            return simulate_traffic(config, traffic, args.seed, days=args.days,
                                    count_from=args.warm_up, progress=bar)

    return run


def predicted_effect(before: HotlineConfig, after: HotlineConfig, paths: tuple[Path, Path],
                     traffic_path: Path, seed: int, settings: Settings) -> str | None:
    """What `config diff --traffic` adds: the same callers under both YAMLs, the SL
    and hang-up changes per queue and tier (None, with the problems on stderr, when
    the traffic does not fit)."""
    traffic = checked_traffic(traffic_path)
    if traffic is None or (traffic := with_tiers(traffic, traffic_path, before,
                                                 settings)) is None:
        return None
    if not traffic.calls:
        print(f"{traffic_path}: nobody calls: give a queue per_hour or per_day, or numbers",
              file=sys.stderr)
        return None
    for config, path in zip((before, after), paths, strict=True):
        if (misfit := misfit_of(traffic, config, path)) is not None:
            print(f"{traffic_path}: {misfit}", file=sys.stderr)
            return None
    with progress_bar() as bar:
        old = simulate_traffic(before, traffic, seed, progress=lambda s: bar(s / 2))
        new = simulate_traffic(after, traffic, seed, progress=lambda s: bar(0.5 + s / 2))
    return compared(old, new)

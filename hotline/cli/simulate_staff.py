"""`hotline simulate staff --config FILE --traffic FILE --queue Q --target 85/20`: the
agents a queue needs per interval, by Erlang C and then by simulating the engine's own
policy (`routing.staffing`)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from hotline.cli.simulate_inputs import (
    checked,
    checked_traffic,
    misfit_of,
    progress_bar,
    with_tiers,
)
from hotline.cli.simulate_report import seconds_text, share_text
from hotline.settings import Settings
from routing.staffing import Staffing, level, staff

TARGET = re.compile(r"^(\d{1,2}(?:\.\d+)?|100)/(\d+(?:\.\d+)?)$")


def add_staff_parser(what: Any) -> None:
    staff_ = what.add_parser("staff", help="agents needed per interval to meet a target")
    staff_.add_argument("--config", dest="staff_config", type=Path, required=True,
                        help="the routing YAML")
    staff_.add_argument("--traffic", dest="staff_traffic", type=Path, required=True,
                        help="the traffic file (its queue's arrivals and times)")
    staff_.add_argument("--queue", required=True)
    staff_.add_argument("--target", default="85/20", type=target_of,
                        help="percent answered / within seconds (default 85/20)")
    staff_.add_argument("--days", dest="staff_days", type=int, default=20,
                        help="simulated days pooled per interval (default 20)")
    staff_.add_argument("--seed", dest="staff_seed", type=int, default=1)
    staff_.add_argument("--json", dest="staff_json", type=Path,
                        help="also write the plan here")


def target_of(text: str) -> tuple[float, float]:
    match = TARGET.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: write percent/seconds, as 85/20")
    return float(match[1]) / 100, float(match[2])


def staff_command(args: argparse.Namespace, settings: Settings) -> int:
    config = checked(args.staff_config)
    traffic = checked_traffic(args.staff_traffic)
    if config is None or traffic is None or \
            (traffic := with_tiers(traffic, args.staff_traffic, config, settings)) is None:
        return 1
    if (misfit := misfit_of(traffic, config, args.staff_config)) is not None:
        print(f"{args.staff_traffic}: {misfit}", file=sys.stderr)
        return 1
    if args.queue not in traffic.queues:
        print(f"{args.staff_traffic}: no traffic for queue {args.queue}", file=sys.stderr)
        return 1
    share, within = args.target
    with progress_bar() as bar:
        try:
            plan = staff(config, traffic, args.queue, share, within, seed=args.staff_seed,
                         days=args.staff_days, progress=lambda n: bar(min(1.0, n / 16)))
        except ValueError as exc:
            print(f"{args.staff_config}: {exc}", file=sys.stderr)
            return 1
    abandons = config.queues[args.queue].service_level.abandons_count
    print(plan_table(plan, traffic.interval, share, within, args.staff_days, abandons))
    if args.staff_json:
        args.staff_json.write_text(json.dumps(plan_json(plan, traffic.interval), indent=1)
                                   + "\n")
    return 0 if plan.met else 3


def _clock(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def plan_table(plan: Staffing, interval: float, share: float, within: float,
               days: int, abandons: bool) -> str:
    counted = "hang-ups counted as missed" if abandons else "of those answered"
    lines = [f"{plan.queue}: {share:.0%} within {within:g}s ({counted}), agents like "
             f"{plan.template} ({plan.simulations} simulations of {days} day(s))",
             f"{'from':<7}{'callers':>8}{'Erlang C':>10}{'simulated':>10}{'SL':>8}{'ASA':>8}"
             f"{'hung up':>9}"]
    for row in plan.intervals:
        f = row.figures
        lines.append(f"{_clock(row.index * interval):<7}{row.offered:>8.1f}{row.erlang_c:>10}"
                     f"{row.agents:>10}{share_text(level(f, abandons)):>8}{seconds_text(f.asa):>8}"
                     f"{share_text(f.abandoned / f.offered if f.offered else None):>9}")
    total = sum(r.agents for r in plan.intervals) * interval / 3600
    erlang = sum(r.erlang_c for r in plan.intervals) * interval / 3600
    lines.append(f"agent-hours: {total:g} simulated, {erlang:g} by Erlang C")
    if not plan.met:
        lines.append("the target is not met in every interval: the plan is the last one "
                     "tried")
    return "\n".join(lines)


def plan_json(plan: Staffing, interval: float) -> dict[str, Any]:
    return {"queue": plan.queue, "template": plan.template, "met": plan.met,
            "intervals": [{"from_s": r.index * interval, "callers": r.offered,
                           "erlang_c": r.erlang_c, "agents": r.agents,
                           "service_level": r.figures.service_level, "asa_s": r.figures.asa}
                          for r in plan.intervals]}

"""`hotline simulate`: a day of traffic under a routing YAML, in virtual time, before any
caller meets it (`routing.simulation`), with Erlang C beside each queue."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from config.loader import check, check_traffic
from config.model import HotlineConfig
from config.traffic import Traffic
from hotline.cli.simulate_chart import sl_chart
from routing.erlang import erlang_a, service_level
from routing.simulation import Result, simulate
from routing.stats import ALL_TIERS, QueueFigures


def add_simulate_parser(sub: Any) -> None:
    simulate_ = sub.add_parser("simulate", help="what a day of traffic meets under a YAML, "
                                                "in virtual time")
    simulate_.add_argument("--config", type=Path, required=True, help="the routing YAML")
    simulate_.add_argument("--traffic", type=Path, required=True, help="the traffic file")
    simulate_.add_argument("--seed", type=int, default=1)
    simulate_.add_argument("--warm-up", type=float, default=0.0,
                           help="seconds from an empty floor not counted (default 0)")
    simulate_.add_argument("--json", type=Path, help="also write the figures here")
    simulate_.add_argument("--chart", type=Path, metavar="FILE.svg",
                           help="draw the SL of each queue by interval (the first YAML's)")
    simulate_.add_argument("--compare", type=Path, metavar="NEW.yaml",
                           help="the same callers under this YAML too, and the differences")


def simulate_command(args: argparse.Namespace) -> int:
    config, problems = check(args.config)
    traffic, traffic_problems = check_traffic(args.traffic)
    for problem in [*problems, *traffic_problems]:
        print(problem, file=sys.stderr)
    if config is None or traffic is None or \
            any(p.severity == "error" for p in [*problems, *traffic_problems]):
        return 1
    if (misfit := misfit_of(traffic, config, args.config)) is not None:
        print(f"{args.traffic}: {misfit}", file=sys.stderr)
        return 1
    result = simulate(config, traffic, args.seed, args.warm_up)
    print(table(config, traffic, result))
    figures = as_json(config, result)
    if args.chart:
        args.chart.write_text(sl_chart(config, result, f"SL by interval: {args.config}"))
    if args.compare:
        other, other_problems = check(args.compare)
        for problem in other_problems:
            print(problem, file=sys.stderr)
        if other is None or any(p.severity == "error" for p in other_problems):
            return 1
        if (misfit := misfit_of(traffic, other, args.compare)) is not None:
            print(f"{args.traffic}: {misfit}", file=sys.stderr)
            return 1
        changed = simulate(other, traffic, args.seed, args.warm_up)
        print(f"\nThe same callers under {args.compare}:")
        print(table(other, traffic, changed))
        print(f"\n{compared(result, changed)}")
        figures = {"base": figures, "compare": as_json(other, changed)}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


def misfit_of(traffic: Traffic, config: HotlineConfig, path: Path) -> str | None:
    """Why the traffic cannot run on this YAML: a queue or an agent it does not have."""
    queues = sorted(set(traffic.queues) - set(config.queues))
    if queues:
        return f"{path} has no queue {', '.join(queues)}"
    agents = sorted(set(traffic.logged_in or ()) - set(config.agents))
    if agents:
        return f"logged_in names agents {path} does not have: {', '.join(agents)}"
    return None


def compared(base: Result, changed: Result) -> str:
    """Per queue and tier: SL and the share who hung up, before and after."""
    lines = [f"{'queue':<14}{'tier':<9}{'SL':>18}{'change':>9}{'hung up':>18}{'change':>9}"]
    for key in sorted(set(base.figures) | set(changed.figures),
                      key=lambda k: (k[0], k[1] != ALL_TIERS, k[1])):
        old, new = base.figures.get(key, QueueFigures()), changed.figures.get(key, QueueFigures())
        lines.append(f"{key[0]:<14}{key[1]:<9}"
                     f"{_share(old.service_level) + ' -> ' + _share(new.service_level):>18}"
                     f"{_points(old.service_level, new.service_level):>9}"
                     f"{_share(hung(old)) + ' -> ' + _share(hung(new)):>18}"
                     f"{_points(hung(old), hung(new)):>9}")
    return "\n".join(lines)


def hung(f: QueueFigures) -> float | None:
    """The share of the queue's callers who hung up waiting."""
    return f.abandoned / f.offered if f.offered else None


def _points(old: float | None, new: float | None) -> str:
    return "-" if old is None or new is None else f"{(new - old) * 100:+.1f} pp"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def table(config: HotlineConfig, traffic: Traffic, result: Result) -> str:
    head = (f"{'queue':<14}{'tier':<9}{'offered':>8}{'answered':>9}{'abandoned':>10}"
            f"{'timed out':>10}{'overflow':>9}{'SL':>8}{'target':>8}{'ASA':>8}"
            f"{'Erlang':>10}")
    lines = [f"{result.calls} callers over {traffic.hours:g} h, agents busy "
             f"{result.occupancy:.1%} of their time", head]
    for (queue, tier), f in sorted(result.figures.items(),
                                   key=lambda kv: (kv[0][0], kv[0][1] != ALL_TIERS, kv[0][1])):
        rules = config.queues[queue]
        lines.append(f"{queue:<14}{tier:<9}{f.offered:>8}{f.answered:>9}{f.abandoned:>10}"
                     f"{f.timed_out:>10}{f.overflowed:>9}{_share(f.service_level):>8}"
                     f"{rules.service_level.target:>8.0%}{_secs(f.asa):>8}"
                     f"{_erlang(config, traffic, queue) if tier == ALL_TIERS else '':>10}")
    if result.starvation_warnings:
        lines.append("starvation warnings (callers near their tier's guaranteed wait): " +
                     ", ".join(f"{t} {n}" for t, n in sorted(result.starvation_warnings.items())))
    return "\n".join(lines)


def _erlang(config: HotlineConfig, traffic: Traffic, queue: str) -> str:
    """The queue's SL by Erlang C (Erlang A when its callers' patience is exponential),
    as if it had every agent on duty who can serve it to itself: a bound to read the
    simulated figure against."""
    flow = traffic.queues.get(queue)
    if flow is None or flow.curve:
        return "-"
    skills = config.queues[queue].skills
    on_duty = traffic.logged_in if traffic.logged_in is not None else list(config.agents)
    agents = sum(1 for a in on_duty if a in config.agents and all(
        config.agents[a].skills.get(s, 0) >= level for s, level in skills.items()))
    erlangs = flow.per_hour * flow.handle_time.mean / 3600
    within = config.queues[queue].service_level.answered_within
    if flow.patience is not None and flow.patience.distribution == "exponential":
        return _share(erlang_a(agents, erlangs, flow.handle_time.mean, flow.patience.mean,
                               within)[0]) + " A"
    return _share(service_level(agents, erlangs, flow.handle_time.mean, within))


def _figures(f: QueueFigures) -> dict[str, Any]:
    return {"offered": f.offered, "answered": f.answered, "abandoned": f.abandoned,
            "timed_out": f.timed_out, "overflowed": f.overflowed,
            "service_level": f.service_level, "asa_s": f.asa,
            "starvation_warnings": f.starvation_warnings}


def as_json(config: HotlineConfig, result: Result) -> dict[str, Any]:
    return {"calls": result.calls, "occupancy": result.occupancy,
            "interval_s": result.interval,
            "queues": {f"{q}/{t}": _figures(f) for (q, t), f in sorted(result.figures.items())},
            "intervals": {f"{q}/{n}": _figures(f)
                          for (q, n), f in sorted(result.by_interval.items())}}

"""What `hotline simulate` prints and writes: the table per queue and tier (Erlang beside
it), the tiers' guarantees, the differences between two YAMLs, and the JSON."""

from __future__ import annotations

from typing import Any

from config.model import HotlineConfig
from config.traffic import Traffic
from routing.erlang import erlang_a, service_level
from routing.simulation import Result
from routing.stats import ALL_TIERS, QueueFigures

WARNINGS_SHOWN = 5


def compared(base: Result, changed: Result) -> str:
    """Per queue and tier: SL and the share who hung up, before and after."""
    lines = [f"{'queue':<14}{'tier':<9}{'SL':>20}{'change':>11}{'hung up':>20}{'change':>11}"]
    for key in sorted(set(base.figures) | set(changed.figures), key=_queue_then_tier):
        old, new = base.figures.get(key, QueueFigures()), changed.figures.get(key, QueueFigures())
        lines.append(f"{key[0]:<14}{key[1]:<9}"
                     f"{share_text(old.service_level) + ' -> ' + share_text(new.service_level):>20}"
                     f"{_points(old.service_level, new.service_level):>11}"
                     f"{share_text(hung(old)) + ' -> ' + share_text(hung(new)):>20}"
                     f"{_points(hung(old), hung(new)):>11}")
    return "\n".join(lines)


def hung(f: QueueFigures) -> float | None:
    """The share of the queue's callers who hung up waiting."""
    return f.abandoned / f.offered if f.offered else None


def _queue_then_tier(key: tuple[str, str]) -> tuple[str, bool, str]:
    return key[0], key[1] != ALL_TIERS, key[1]


def _points(old: float | None, new: float | None) -> str:
    return "-" if old is None or new is None else f"{(new - old) * 100:+.1f} pp"


def share_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def seconds_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def table(config: HotlineConfig, result: Result, traffic: Traffic | None = None,
          hours: float | None = None) -> str:
    """`traffic`: the file the callers were drawn from, for Erlang's figure beside
    each queue (none for a replayed day)."""
    head = (f"{'queue':<14}{'tier':<9}{'offered':>8}{'answered':>9}{'abandoned':>10}"
            f"{'timed out':>10}{'overflow':>9}{'SL':>8}{'SL*':>8}{'target':>8}{'ASA':>8}"
            f"{'longest':>9}{'Erlang':>10}")
    days = f" x {result.days} days" if result.days > 1 else ""
    span = f" over {hours:g} h{days}" if hours is not None else ""
    lines = [f"{result.calls} callers{span}, agents busy {result.occupancy:.1%} of their "
             "time on duty", head]
    for (queue, tier), f in sorted(result.figures.items(), key=lambda kv: _queue_then_tier(
            kv[0])):
        rules = config.queues[queue]
        erlang = _erlang(config, traffic, queue) if traffic and tier == ALL_TIERS else ""
        lines.append(f"{queue:<14}{tier:<9}{f.offered:>8}{f.answered:>9}{f.abandoned:>10}"
                     f"{f.timed_out:>10}{f.overflowed:>9}{share_text(f.service_level):>8}"
                     f"{share_text(f.service_level_with_abandons):>8}"
                     f"{rules.service_level.target:>8.0%}{seconds_text(f.asa):>8}"
                     f"{seconds_text(result.longest_wait.get((queue, tier))):>9}{erlang:>10}")
    lines.append("SL: answered within the threshold, of those answered; SL*: of those "
                 "answered or who hung up (short hang-ups left out)")
    if result.in_menus:
        lines.append("ended in the menus, no queue: " + ", ".join(
            f"{where} {count}" for where, count in sorted(result.in_menus.items())))
    lines += guarantees(config, result)
    return "\n".join(lines)


def guarantees(config: HotlineConfig, result: Result) -> list[str]:
    """Each VIP tier's guaranteed wait: honoured, or broken for how many; and the
    starvation warnings, the first few in the engine's own words."""
    lines = []
    tiers = {tier for _, tier in result.figures if tier != ALL_TIERS}
    for name, rule in sorted(config.vip.tiers.items(), key=lambda kv: -kv[1].priority):
        if name not in tiers:
            continue
        longest = max((w for (_, t), w in result.longest_wait.items() if t == name),
                      default=0.0)
        broken = result.past_guarantee.get(name, 0)
        verdict = f"broken for {broken} caller(s)" if broken else "honoured"
        lines.append(f"tier {name}: guaranteed {rule.max_wait:g}s, longest wait "
                     f"{longest:.0f}s: {verdict}; "
                     f"{result.starvation_warnings.get(name, 0)} starvation warning(s)")
    if result.warnings:
        lines.append("as the engine would log them (the first few):")
        lines += [f"  {warning}" for warning in result.warnings[:WARNINGS_SHOWN]]
    return lines


def _erlang(config: HotlineConfig, traffic: Traffic, queue: str) -> str:
    """The queue's SL by Erlang C (Erlang A when its callers' patience is exponential),
    as if it had every agent on duty who can serve it to itself: a bound to read the
    simulated figure against."""
    flow = traffic.queues.get(queue)
    if flow is None or flow.curve or flow.per_hour is None or traffic.shifts:
        return "-"
    skills = config.queues[queue].skills
    on_duty = traffic.logged_in if traffic.logged_in is not None else list(config.agents)
    agents = sum(1 for a in on_duty if a in config.agents and all(
        config.agents[a].skills.get(s, 0) >= level for s, level in skills.items()))
    aht = flow.handle_time.average
    erlangs = flow.per_hour * aht / 3600
    within = config.queues[queue].service_level.answered_within
    if flow.patience is not None and flow.patience.distribution == "exponential":
        assert flow.patience.mean is not None
        return share_text(erlang_a(agents, erlangs, aht, flow.patience.mean, within)[0]) + " A"
    return share_text(service_level(agents, erlangs, aht, within))


def _figures(f: QueueFigures) -> dict[str, Any]:
    return {"offered": f.offered, "answered": f.answered, "abandoned": f.abandoned,
            "timed_out": f.timed_out, "overflowed": f.overflowed,
            "service_level": f.service_level,
            "service_level_with_abandons": f.service_level_with_abandons, "asa_s": f.asa,
            "starvation_warnings": f.starvation_warnings}


def as_json(result: Result) -> dict[str, Any]:
    return {"calls": result.calls, "days": result.days, "occupancy": result.occupancy,
            "interval_s": result.interval,
            "queues": {f"{q}/{t}": {**_figures(f), "longest_wait_s":
                                    result.longest_wait.get((q, t))}
                       for (q, t), f in sorted(result.figures.items())},
            "intervals": {f"{q}/{n}": _figures(f)
                          for (q, n), f in sorted(result.by_interval.items())},
            "past_guarantee": result.past_guarantee, "in_menus": result.in_menus,
            "starvation_warnings": result.starvation_warnings}

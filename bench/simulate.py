"""A day of the seed city in the simulator, and the simulator against Erlang C.

    python bench/simulate.py [--runs 3] [--calls 47000] [--agents 150]

The day: 1.4 million calls a month is about 47,000 a day. They arrive over 24 hours on
an intraday curve (quiet at night, a morning and an afternoon peak), into 8 queues of
one skill each, with 4 VIP tiers (80% normal, 12% silver, 6% gold, 2% diamond), a
lognormal handle time of 130 s on average and an exponential patience of 90 s. 150
agents hold 2 or 3 skills each, at proficiencies 3 to 10; every queue relaxes its
minimum after 30 s and overflows to the general queue after 2 minutes. The figure is
simulated calls per second of this process's CPU (`time.process_time`), one core, over
`--runs` days on different seeds: the median and range.

Then the M/M/c cases of `tests/unit/test_simulation.py` (10 Erlang on 14 agents, 48 on
55, and three more), each over 30 replications of 30,000 callers: the largest gap
between the simulated SL and Erlang C, in percentage points, with each case's 95%
confidence interval.

Last line: JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.loader import load_text
from config.model import HotlineConfig
from config.traffic import Traffic
from hotline.dev.configs import OPEN_ALL_WEEK, one_skill_hotline
from routing.erlang import service_level
from routing.simulation import simulate_traffic

SKILLS = ["general", "billing", "topup", "fault", "complaints", "install", "directory",
          "english"]
# Shares of the day's calls per hour, midnight first: a morning and an afternoon peak.
HOURLY = [0.4, 0.25, 0.2, 0.2, 0.25, 0.5, 1.2, 2.8, 5.2, 7.6, 8.4, 7.8, 6.0, 6.4, 7.4,
          7.8, 7.2, 6.2, 4.8, 4.0, 3.6, 3.0, 2.0, 1.0]
# Erlang, AHT (s), agents: the test's M/M/c cases.
MMC = [(10, 180, 14), (48, 240, 55), (2, 120, 4), (5, 60, 7), (20, 300, 24)]
# Replications per case, and callers per replication: a run's SL swings by about two
# points over 8,000 callers, so the 95% interval of the mean needs this many to come
# well inside one point.
REPLICATIONS, CALLERS_PER_RUN = 30, 30_000


def city(agents: int) -> HotlineConfig:
    rng = random.Random(42)
    rows = []
    for n in range(agents):
        held = rng.sample(SKILLS[1:], 2) + (["general"] if n % 2 else [])
        skills = ", ".join(f"{s}: {rng.randint(3, 10)}" for s in held)
        rows.append(f'  "{2000 + n}": {{name: Agent {n}, endpoint: PJSIP/agent-{2000 + n}, '
                    f"skills: {{{skills}}}, wrap_up: 10s}}\n")
    queues = "".join(
        f"  {s}: {{name: {s.title()}, skills: {{{s}: 6}}, "
        "relax: [{after: 30s, min_proficiency: 3}]"
        f"{'' if s == 'general' else ', overflow: {after: 2m, to: general}'}}}\n"
        for s in SKILLS)
    text = f"""numbers: {{unified: "10000", start: main}}
{OPEN_ALL_WEEK}languages: {{default: zh, offered: [zh]}}
prompts: {{menu: {{text: {{zh: 请稍候。}}}}}}
menus: {{main: {{kind: queue, queue: general}}}}
skills: {{{", ".join(f"{s}: {{name: {s.title()}}}" for s in SKILLS)}}}
agents:
{"".join(rows)}queues:
{queues}vip:
  aging: 1.0
  tiers:
    diamond: {{priority: 300, max_wait: 20s}}
    gold: {{priority: 200, max_wait: 40s}}
    silver: {{priority: 100, max_wait: 90s}}
    normal: {{priority: 0, max_wait: 5m}}
sampling: {{rate: 0.0, survey: main}}
"""
    return load_text(text).config


def day(calls: int) -> Traffic:
    """The day's calls over the queues (general takes a quarter), on the hourly curve,
    given per 15-minute interval."""
    mean = sum(HOURLY) / 24
    curve = [share / mean for share in HOURLY for _ in range(4)]
    weights = {s: (3.0 if s == "general" else 1.0) for s in SKILLS}
    total = sum(weights.values())
    return Traffic.model_validate({
        "hours": 24, "interval": 900,
        "queues": {s: {"per_hour": calls * w / total / 24, "curve": curve,
                       "handle_time": {"distribution": "lognormal", "mean": 130,
                                       "deviation": 90},
                       "patience": {"mean": 90}} for s, w in weights.items()},
        "tiers": {"normal": 0.8, "silver": 0.12, "gold": 0.06, "diamond": 0.02}})


def one_queue(agents: int) -> HotlineConfig:
    return load_text(one_skill_hotline(agents)).config


def erlang_gap() -> float:
    """The largest |simulated SL - Erlang C| over the M/M/c cases, in points."""
    worst = 0.0
    for case, (erlangs, handle, agents) in enumerate(MMC):
        per_hour = erlangs / handle * 3600
        hours = 1 + CALLERS_PER_RUN / per_hour  # the first hour is a warm-up, not counted
        flow = Traffic.model_validate({"hours": hours, "queues": {"talk": {
            "per_hour": per_hour, "handle_time": {"mean": handle}}}})
        config = one_queue(agents)
        levels = [simulate_traffic(config, flow, seed, count_from=3600).figures[("talk", "all")]
                  .service_level or 0.0
                  # Seeds of its own per case: on shared seeds the cases would draw the
                  # same random numbers, and err together.
                  for seed in range(1000 * case, 1000 * case + REPLICATIONS)]
        simulated, theory = statistics.mean(levels), service_level(agents, erlangs, handle, 20)
        spread = statistics.stdev(levels) / len(levels) ** 0.5
        print(f"M/M/c {erlangs:g} Erlang, AHT {handle} s, {agents} agents: simulated "
              f"{simulated:.2%} (95% interval +/- {1.96 * spread:.2%}, {REPLICATIONS} runs "
              f"of {hours:.0f} h), Erlang C {theory:.2%}")
        worst = max(worst, abs(simulated - theory) * 100)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=47_000)
    parser.add_argument("--agents", type=int, default=150)
    args = parser.parse_args()
    config, traffic = city(args.agents), day(args.calls)
    rates, seconds, counted = [], [], 0
    for seed in range(1, args.runs + 1):
        started = time.process_time()
        result = simulate_traffic(config, traffic, seed)
        spent = time.process_time() - started
        whole = [f for (_, tier), f in result.figures.items() if tier == "all"]
        answered = sum(f.answered for f in whole)
        within = sum(f.answered_in_sl for f in whole)
        print(f"day {seed}: {result.calls} calls in {spent:.2f} s of CPU "
              f"({result.calls / spent:,.0f} calls/s); answered {answered}, "
              f"SL {within / max(1, answered):.1%}, agents busy {result.occupancy:.0%}")
        rates.append(result.calls / spent)
        seconds.append(spent)
        counted = result.calls
    gap = erlang_gap()
    print(f"calls/s median {statistics.median(rates):,.0f} "
          f"(range {min(rates):,.0f}-{max(rates):,.0f}); a day in "
          f"{statistics.median(seconds):.2f} s (range {min(seconds):.2f}-{max(seconds):.2f})")
    print(json.dumps({"calls": counted, "seconds": round(statistics.median(seconds), 2),
                      "seconds_range": [round(min(seconds), 2), round(max(seconds), 2)],
                      "calls_per_s": round(statistics.median(rates)),
                      "erlang_c_max_abs_pp": round(gap, 2), "runs": args.runs}))


if __name__ == "__main__":
    main()

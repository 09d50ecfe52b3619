"""The simulator against the engine, on the real sandbox: time-scaled days served by a
real engine, then replayed by `hotline simulate --replay` from the engine's own records
and from its queue_log.

    python bench/simulate_vs_engine.py [--runs 3] [--minutes 5] [--agents 8]
                                       [--handle-time 6] [--load 0.8] [--within 3]

Each run is a day of `--minutes` of Poisson callers (a seed of its own) into one queue
of `--agents` agents whose phones hang up after a talk drawn for each caller
(exponential, `--handle-time` seconds on average); the agents' offered share of time
talking is `--load`, and the service level counts answers within `--within` seconds.
Per run: the engine's SL and ASA (its own queue statistics), each replay's, and the
gaps. Last line: JSON with the median and range of each figure over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.timed_day import DayFigures, TimedDay, run_day
from hotline.runtime.redis_client import connect
from hotline.settings import Settings


async def run(box: sandbox.SandboxInstance, redis_url: str, days: list[TimedDay],
              scratch: Path) -> list[DayFigures]:
    redis = connect(redis_url)
    state = box.state
    results = []
    try:
        for n, day in enumerate(days):
            settings = replace(Settings(ami=box.ami, redis_url=redis_url),
                               key_prefix=f"bench-simvse-{n}:", shutdown_grace=2.0,
                               prompts_dir=Path(str(state["sounds_dir"])),
                               prompts_dir_asterisk=str(state["sounds_dir_in_chroot"]),
                               recordings_dir=Path(str(state["recordings_dir"])),
                               recordings_dir_asterisk=str(state["recordings_dir_in_chroot"]),
                               secret_key=os.urandom(32))
            directory = scratch / f"day-{n}"
            directory.mkdir()
            figures = await run_day(settings, redis, day, directory)
            results.append(figures)
            seen = figures.engine
            line = [f"day {n + 1} (seed {day.seed}): {figures.calls} callers, engine SL "
                    f"{seen.service_level or 0:.1%} ASA {seen.asa or 0:.2f}s AHT "
                    f"{seen.aht or 0:.2f}s"]
            line += [f"{name} SL {r['service_level']:.1%} ASA {r['asa_s']:.2f}s"
                     for name, r in figures.replays.items()]
            print("; ".join(line), flush=True)
    finally:
        await redis.aclose()
    return results


def spread(values: list[float], digits: int) -> dict[str, object]:
    return {"median": round(statistics.median(values), digits),
            "range": [round(min(values), digits), round(max(values), digits)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--agents", type=int, default=8)
    parser.add_argument("--handle-time", type=float, default=6.0)
    parser.add_argument("--load", type=float, default=0.8)
    parser.add_argument("--within", type=float, default=3.0)
    parser.add_argument("--instance", default="bench-simvse")
    parser.add_argument("--rtp-start", type=int, default=47000 + 2 * (os.getpid() % 1000))
    args = parser.parse_args()
    days = [TimedDay(args.minutes, args.agents, args.handle_time, args.load, args.within,
                     seed) for seed in range(1, args.runs + 1)]
    began = time.monotonic()
    with sandbox.owned(args.instance, args.rtp_start) as box, LocalRedis() as server, \
            tempfile.TemporaryDirectory(prefix="bench-simvse-") as scratch:
        results = asyncio.run(run(box, server.url, days, Path(scratch)))
    engine_sl = [(r.engine.service_level or 0.0) * 100 for r in results]
    engine_asa = [r.engine.asa or 0.0 for r in results]
    figures: dict[str, object] = {"calls": sum(r.calls for r in results), "runs": args.runs,
                                  "minutes": args.minutes,
                                  "engine_sl_pct": spread(engine_sl, 1),
                                  "engine_asa_s": spread(engine_asa, 2)}
    for source in ("records", "queue_log"):
        sl = [r.replays[source]["service_level"] * 100 for r in results]
        asa = [r.replays[source]["asa_s"] for r in results]
        figures[f"{source}_sl_pct"] = spread(sl, 1)
        figures[f"{source}_asa_s"] = spread(asa, 2)
        figures[f"{source}_sl_gap_pp_max"] = round(max(
            abs(a - b) for a, b in zip(sl, engine_sl, strict=True)), 2)
        figures[f"{source}_asa_gap_s_max"] = round(max(
            abs(a - b) for a, b in zip(asa, engine_asa, strict=True)), 3)
    print(f"done in {time.monotonic() - began:.0f}s")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

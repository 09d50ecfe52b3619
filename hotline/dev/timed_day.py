"""A time-scaled day on the sandbox: Poisson callers into one queue, each with a talk
time drawn for them, served by simulated agents whose phones hang up when that time is
up (`sim-agent-timed`, which reads it from AstDB by the caller's number). What the
engine records of such a day is replayed in the simulator (`hotline simulate --replay`),
and the two sets of figures are set side by side.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from redis.asyncio import Redis

from agents.state import Move
from hotline.dev.configs import one_skill_hotline
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from pbx.ports import Originator
from routing.stats import QueueFigures

TALK_FAMILY = "simtalk"  # AstDB family: caller number -> seconds of talk


@dataclass(frozen=True, slots=True)
class TimedDay:
    minutes: float = 5.0
    agents: int = 8
    handle_time: float = 6.0  # mean, exponential
    load: float = 0.8  # the agents' share of time talking, offered
    answered_within: float = 3.0  # the service level's threshold, scaled with the day
    seed: int = 1

    @property
    def per_second(self) -> float:
        return self.agents * self.load / self.handle_time

    def yaml(self) -> str:
        return one_skill_hotline(self.agents, endpoint="Local/10{i:02d}@sim-agent-timed",
                                 answered_within=self.answered_within)

    def agent_ids(self) -> list[str]:
        return [f"a{i}" for i in range(self.agents)]


@dataclass(frozen=True, slots=True)
class Arrival:
    at: float  # seconds from the start
    caller_number: str
    talk: float


def arrivals(day: TimedDay) -> list[Arrival]:
    rng = random.Random(f"timed-day:{day.seed}")
    out: list[Arrival] = []
    t = 0.0
    while True:
        t += rng.expovariate(day.per_second)
        if t >= day.minutes * 60:
            return out
        # A talk shorter than half a second is cut to it: a phone takes that to answer.
        out.append(Arrival(t, f"1390{len(out):07d}", max(0.5, rng.expovariate(
            1 / day.handle_time))))


class Ami(Protocol):
    """What placing the day needs of an AMI connection (panoramisk's Manager)."""

    async def send_action(self, action: dict[str, str]) -> object: ...


async def place_day(ami: Ami, originator: Originator, day: TimedDay) -> list[str]:
    """Place every caller at their moment (their talk times stored first); returns the
    call ids. Callers stay on the line long enough never to hang up waiting."""
    schedule = arrivals(day)
    for arrival in schedule:
        await ami.send_action({"Action": "DBPut", "Family": TALK_FAMILY,
                               "Key": arrival.caller_number, "Val": f"{arrival.talk:.3f}"})
    started, placed = time.monotonic(), []
    for arrival in schedule:
        await asyncio.sleep(max(0.0, started + arrival.at - time.monotonic()))
        placed.append(await place_call(originator, SimulatedCaller(
            caller_number=arrival.caller_number, caller_name="Timed Caller", delay=0.5,
            stay=600.0)))
    return placed


async def forget_talk_times(ami: Ami) -> None:
    await ami.send_action({"Action": "DBDelTree", "Family": TALK_FAMILY})


@dataclass(frozen=True, slots=True)
class DayFigures:
    """The engine's own figures of the day, and the simulator's replays of it."""

    calls: int
    engine: QueueFigures
    replays: dict[str, dict[str, Any]]  # source ("records", "queue_log") -> talk/all
    recorded_day: str  # the day (in the hotline's time zone) the records are under


async def run_day(settings: Settings, redis: Redis, day: TimedDay,
                  directory: Path) -> DayFigures:
    """Serve the day with a real engine (its queue_log in `directory`), then replay it
    with `hotline simulate --replay`, from the engine's records and from the
    queue_log, as a supervisor would run it."""
    config = directory / "hotline.yaml"
    config.write_text(day.yaml())
    settings = replace(settings, config_path=config, queue_log=directory / "queue_log")
    engine = Engine(settings, redis, watch_config=False)
    await engine.start()
    try:
        now = time.time()
        for agent_id in day.agent_ids():
            await engine.routing.apply(agent_id, Move.LOG_IN, now)
            await engine.routing.apply(agent_id, Move.GO_READY, now)
        today = engine.stats.day()
        placed = await place_day(engine.ami, engine.originator, day)
        deadline = time.monotonic() + 120
        seen = await engine.stats.figures(today, "talk")
        while seen.handled < len(placed) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            seen = await engine.stats.figures(today, "talk")
        await forget_talk_times(engine.ami)
    finally:
        await engine.stop()
    env = {**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
           "HOTLINE_KEY_PREFIX": settings.key_prefix}
    replays = {}
    for name, source in (("records", today), ("queue_log", str(settings.queue_log))):
        out = directory / f"replay-{name}.json"
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "hotline", "simulate", "--config",
                             str(config), "--replay", source, "--json", str(out)],
            capture_output=True, text=True, env=env, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"hotline simulate --replay {source}: {done.stderr}")
        replays[name] = json.loads(out.read_text())["queues"]["talk/all"]
    return DayFigures(len(placed), seen, replays, today)

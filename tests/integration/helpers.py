"""Waiting on what the engine stored, the way a supervisor's tools would read it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from agents.state import Move
from hotline.engine import Engine
from hotline.settings import Settings
from tests.conftest import EventTap


async def wait_ended(engine: Engine, call_id: str, timeout: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = await engine.call_log.record(call_id)
        if "ended" in record:
            return record
        await asyncio.sleep(0.1)
    raise AssertionError(f"call {call_id} did not end within {timeout}s: {record}")


async def wait_steps(engine: Engine, call_id: str, count: int,
                     timeout: float = 15.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        steps = await engine.call_log.steps(call_id)
        if len(steps) >= count:
            return steps
        await asyncio.sleep(0.05)
    raise AssertionError(f"call {call_id} has {len(steps)} steps, expected {count}")


class Phone:
    """A caller's keypad, driven by the test: keys are pressed once the engine is
    listening for them, as a person presses after hearing the prompt begin."""

    def __init__(self, engine: Engine, call_id: str) -> None:
        self.engine = engine
        self.call_id = call_id

    async def channel(self) -> str:
        deadline = time.monotonic() + 15
        while "channel" not in (record := await self.engine.call_log.record(self.call_id)):
            assert time.monotonic() < deadline, "the call never reached the engine"
            await asyncio.sleep(0.05)
        return record["channel"]

    async def listening(self, prompt: str, timeout: float = 30.0) -> None:
        """Until the engine waits for keys over `prompt` (a path's last parts)."""
        deadline = time.monotonic() + timeout
        while not any(c.call.call.call_id == self.call_id and c.line.startswith("GET DATA")
                      and f"/{prompt} " in c.line for c in self.engine.agi.commands.values()):
            assert time.monotonic() < deadline, f"the engine never asked for keys at {prompt}"
            await asyncio.sleep(0.05)

    async def press(self, keys: str) -> None:
        channel = await self.channel()
        for key in keys:
            await self.engine.ami.send_action({
                "Action": "PlayDTMF", "Channel": channel, "Digit": key, "Duration": 120,
                "Receive": "true"})
            await asyncio.sleep(0.2)

    async def answer(self, prompt: str, keys: str) -> None:
        await self.listening(prompt)
        await asyncio.sleep(0.3)  # a moment into the prompt
        await self.press(keys)

    async def hang_up(self) -> None:
        await self.engine.ami.send_action({"Action": "Hangup", "Channel": await self.channel()},
                                          check=False)


async def engine_for(settings: Settings, redis: Redis, config_text: str,
                     directory: Path) -> tuple[Engine, EventTap]:
    """A started engine serving `config_text`, with a tap on its AMI events."""
    path = directory / "hotline.yaml"
    path.write_text(config_text)
    engine = Engine(replace(settings, config_path=path), redis, watch_config=False)
    tap = EventTap()
    engine.ami.add_raw_listener(tap)
    await engine.start()
    return engine, tap


async def agents_ready(engine: Engine, *agent_ids: str) -> None:
    """The agents log in and go ready, as they would from their phones."""
    now = time.time()
    for agent_id in agent_ids:
        await engine.routing.apply(agent_id, Move.LOG_IN, now)
        await engine.routing.apply(agent_id, Move.GO_READY, now)

"""Waiting on what the engine stored, the way a supervisor's tools would read it.

Nothing here sleeps to let something happen: a wait polls the thing it waits for,
returns as soon as it holds, and fails with what it last saw at its deadline.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, overload

from redis.asyncio import Redis

from agents.state import Move
from hotline.dev.configs import OPEN_ALL_WEEK
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from tests.conftest import EventTap

T = TypeVar("T")

POLL = 0.05  # seconds between two reads of a condition


@overload
async def until(read: Callable[[], Awaitable[T]], timeout: float, what: str, *,
                holds: Callable[[T], object] = bool) -> T: ...


@overload
async def until(read: Callable[[], T], timeout: float, what: str, *,
                holds: Callable[[T], object] = bool) -> T: ...


async def until(read: Callable[[], Any], timeout: float, what: str, *,
                holds: Callable[[Any], object] = bool) -> Any:
    """`read()` (a coroutine function or a plain one), again and again, until
    `holds` of its value is true; returns that value. Fails after `timeout` seconds,
    saying `what` was awaited and the value last read."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if inspect.isawaitable(value):
            value = await value
        if holds(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout:g}s: {what} (last seen: {value!r})")
        await asyncio.sleep(POLL)


async def wait_ended(engine: Engine, call_id: str, timeout: float = 30.0) -> dict[str, str]:
    return await until(lambda: engine.call_log.record(call_id), timeout,
                       f"call {call_id} ends", holds=lambda record: "ended" in record)


async def wait_steps(engine: Engine, call_id: str, count: int,
                     timeout: float = 15.0) -> list[dict[str, Any]]:
    return await until(lambda: engine.call_log.steps(call_id), timeout,
                       f"call {call_id} has {count} steps",
                       holds=lambda steps: len(steps) >= count)


async def held_past(engine: Engine, call_id: str, at: float, timeout: float = 30.0) -> None:
    """Until the caller's journal holds a step that ended after `at` (epoch seconds):
    they were still on the line, hearing the engine, at that moment."""
    await until(lambda: engine.call_log.steps(call_id), timeout,
                f"call {call_id} is still served at {at:.1f}",
                holds=lambda steps: any(s["at"] >= at * 1000 for s in steps))


async def press_keys(engine: Engine, channel: str, keys: str) -> None:
    """`keys` pressed on the caller's `channel`, at a person's pace."""
    for n, key in enumerate(keys):
        if n:
            await asyncio.sleep(0.2)  # a person's pace between two keys
        await engine.ami.send_action({
            "Action": "PlayDTMF", "Channel": channel, "Digit": key, "Duration": 120,
            "Receive": "true"})


class Phone:
    """A caller's keypad, driven by the test: keys are pressed once the engine is
    listening for them, as a person presses after hearing the prompt begin."""

    def __init__(self, engine: Engine, call_id: str) -> None:
        self.engine = engine
        self.call_id = call_id

    async def channel(self) -> str:
        record = await until(lambda: self.engine.call_log.record(self.call_id), 15,
                             "the call reaches the engine",
                             holds=lambda record: "channel" in record)
        return record["channel"]

    def asking(self, prompt: str) -> str | None:
        """The id of the command that waits for keys over `prompt` (a path's last
        parts) on this call right now, if any."""
        return next((command_id for command_id, c in self.engine.agi.commands.items()
                     if c.call.call.call_id == self.call_id and c.line.startswith("GET DATA")
                     and f"/{prompt} " in c.line), None)

    async def listening(self, prompt: str, timeout: float = 30.0) -> str:
        """Until the engine waits for keys over `prompt`; the id of that command."""
        command_id = await until(lambda: self.asking(prompt), timeout,
                                 f"the engine asks for keys at {prompt}")
        assert command_id is not None
        return command_id

    async def taken(self, command_id: str, timeout: float = 30.0) -> None:
        """Until the engine has the answer to the command `command_id` (the keys, or
        the prompt's timeout)."""
        await until(lambda: command_id not in self.engine.agi.commands, timeout,
                    f"the engine's command {command_id} finishes")

    async def press(self, keys: str) -> None:
        await press_keys(self.engine, await self.channel(), keys)

    async def answer(self, prompt: str, keys: str) -> None:
        """Hear `prompt` begin, press `keys`, and wait until the engine took them."""
        command_id = await self.listening(prompt)
        await asyncio.sleep(0.3)  # a person: a moment into the prompt before pressing
        await self.press(keys)
        await self.taken(command_id)

    async def hang_up(self) -> None:
        await self.engine.ami.send_action({"Action": "Hangup", "Channel": await self.channel()},
                                          check=False)


async def top_up_by_phone(engine: Engine, caller: SimulatedCaller, voucher: str,
                          pin: str) -> str:
    """The caller tops up `voucher` with `pin` from the example's self-service menu and
    hangs up; returns the call id once the call has ended."""
    call_id = await place_call(engine.originator, caller)
    phone = Phone(engine, call_id)
    await phone.answer("zh/main_menu", "1")
    await phone.answer("zh/self_service_menu", "3")
    await phone.answer("zh/enter_voucher", voucher + "#")
    await phone.answer("zh/enter_pin", pin + "#")
    await phone.listening("zh/self_service_menu")
    await phone.hang_up()
    await wait_ended(engine, call_id)
    return call_id


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


def talk_and_wait_hotline(agents: str, extra: str = "") -> str:
    """A hotline open all week with two queues: "180" to `talk`, "184" (or 0 in the
    menu) to `wait`; `agents` are the YAML lines of the agents (two spaces in)."""
    return _TALK_AND_WAIT.replace("{agents}", agents).replace(
        "{OPEN_ALL_WEEK}", OPEN_ALL_WEEK) + extra


_TALK_AND_WAIT = """\
numbers:
  unified: "10000"
  start: main
  legacy:
    "180": to_talk
    "184": to_wait
{OPEN_ALL_WEEK}languages:
  default: zh
  offered: [zh]
prompts:
  menu:
    text: {zh: 按0人工服务。}
menus:
  main:
    kind: choice
    prompt: menu
    timeout: 25s
    keys: {"0": to_wait}
  to_talk: {kind: queue, queue: talk}
  to_wait: {kind: queue, queue: wait}
  survey: {kind: hangup}
skills:
  talk: {name: Talk}
  wait: {name: Wait}
agents:
{agents}queues:
  talk: {name: Talk, skills: {talk: 1}}
  wait: {name: Wait, skills: {wait: 1}}
vip:
  lookup: customer_directory
  aging: 0.0
  tiers:
    normal: {priority: 0, max_wait: 300s}
sampling:
  rate: 0.0
  survey: survey
"""

"""Waiting on what the engine stored, the way a supervisor's tools would read it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from hotline.engine import Engine


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

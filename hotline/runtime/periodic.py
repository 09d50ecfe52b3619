"""A background round run every so often until stopped.

It stops by a flag as well as by cancellation: Python 3.11's asyncio can lose a
cancellation that races a timeout, and a loop that never ends hangs the shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, every: float, work: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.every = every
        self.work = work
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=5)

    async def _run(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.every)
            try:
                await self.work()
            except Exception:  # one failed round must not end the rounds
                log.exception("%s failed; trying again in %.0fs", self.name, self.every)

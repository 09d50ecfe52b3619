"""Every piece of background work the engine starts, watched.

A task that fails is logged once, naming what it was doing and for which call, and
counted; it is never left as "Task exception was never retrieved". A loop that fails or
returns is started again after a pause that grows while it keeps failing, so one bad
round (Redis restarting, a garbled reply) never ends the work for good.

Repeated failures of the same kind within a minute are logged in one line each, without
the traceback: an outage that fails every hangup must not bury the first, telling one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

TRACEBACK_EVERY = 60.0  # seconds between two full tracebacks of the same kind of work
HEALTHY_RUN = 30.0  # a loop that ran this long without failing starts its pauses afresh


class Supervisor:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.failures: Counter[str] = Counter()  # by what was being done
        self._last_traceback: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False

    @property
    def running(self) -> int:
        return len(self._tasks)

    def spawn(self, work: Coroutine[Any, Any, T], what: str,
              call_id: str = "") -> asyncio.Task[T]:
        """Run `work` in the background; a failure is logged and counted, once.

        After stop() nothing new starts: work asked for while the engine shuts down (an
        event read before the AMI connection closes) is cancelled before its first
        step, rather than left running past the engine against a Redis or an Asterisk
        that is going away. A peer engine, or this one's next start, picks the call up."""
        task = asyncio.ensure_future(work)
        if self._stopping:
            task.cancel()
            log.debug("not started, stopping: %s", what)
            return task
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, what, call_id))
        return task

    def forever(self, what: str, body: Callable[[], Awaitable[None]], *,
                pause_min: float = 0.5, pause_max: float = 30.0) -> asyncio.Task[None]:
        """Run `body` again and again until stop(): after a failure (or a return) the
        next run waits `pause_min`, doubling up to `pause_max` while failures go on."""
        return self.spawn(self._forever(what, body, pause_min, pause_max), what)

    def every(self, what: str, seconds: float,
              work: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run `work` every `seconds` until stop(); a failed round is logged and the
        rounds go on."""
        async def rounds() -> None:
            while not self._stopping:
                await asyncio.sleep(seconds)
                if self._stopping:
                    return
                try:
                    await work()
                except Exception as exc:
                    self._failed(what, "", exc)
        return self.spawn(rounds(), what)

    async def stop(self, timeout: float = 5.0) -> None:
        # A flag as well as the cancel: Python 3.11's asyncio can lose a cancellation
        # that races a timeout, and a loop that never ends hangs the shutdown.
        self._stopping = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def _forever(self, what: str, body: Callable[[], Awaitable[None]],
                       pause_min: float, pause_max: float) -> None:
        pause = pause_min
        while not self._stopping:
            started = self.clock()
            try:
                await body()
                if self._stopping:
                    return
                log.warning("%s ended by itself; starting it again", what)
            except Exception as exc:
                self._failed(what, "", exc)
            if self.clock() - started >= HEALTHY_RUN:
                pause = pause_min
            await asyncio.sleep(pause)
            pause = min(pause * 2, pause_max)

    def _finished(self, task: asyncio.Task[Any], what: str, call_id: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._failed(what, call_id, exc)

    def _failed(self, what: str, call_id: str, exc: BaseException) -> None:
        self.failures[what] += 1
        about = f"{what} (call {call_id})" if call_id else what
        now = self.clock()
        last = self._last_traceback.get(what)
        if last is None or now - last >= TRACEBACK_EVERY:
            self._last_traceback[what] = now
            log.error("%s failed: %s", about, exc, exc_info=exc)
        else:
            log.error("%s failed: %s: %s (%d so far)", about, type(exc).__name__, exc,
                      self.failures[what])


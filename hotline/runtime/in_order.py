"""Work about one call done in the order its events came.

Each AMI event is handled in a task of its own, so two events about one call a moment
apart (a DialEnd, then the caller's Hangup) would race: the hangup's handler could read
the call as still offered, find nothing to end, and leave the agent on the call for
good. Work queued here for a call starts only once the call's earlier work is done.
Only an order of tasks in this process: the state itself is in Redis, and a peer that
hears the same events orders them for itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from hotline.runtime.supervisor import Supervisor


class InOrder:
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self._last: dict[str, asyncio.Task[None]] = {}  # a call's latest work, by call id

    def run(self, call_id: str, work: Coroutine[Any, Any, None], what: str) -> None:
        before = self._last.get(call_id)
        task = self.supervisor.spawn(self._after(before, work), what, call_id)
        self._last[call_id] = task
        task.add_done_callback(lambda done: self._forget(call_id, done, work))

    @staticmethod
    async def _after(before: asyncio.Task[None] | None, work: Coroutine[Any, Any, None]) -> None:
        if before is not None:
            await asyncio.wait([before])  # its failure is the supervisor's to report
        await work

    def _forget(self, call_id: str, done: asyncio.Task[None],
                work: Coroutine[Any, Any, None]) -> None:
        if self._last.get(call_id) is done:
            del self._last[call_id]
        if done.cancelled():
            # Stopped before it began (even before its task first ran: then nothing
            # else would close it), or cut short: closing an ended coroutine is a no-op.
            work.close()

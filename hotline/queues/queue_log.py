"""An Asterisk-format `queue_log`, so reporting tools built for app_queue (QueueMetrics
and the like) read the engine's queues as they read app_queue's.

Each line is `time|call id|queue|agent|EVENT|data1|data2|...`. Agents appear as
`Agent/<id>`. Each engine instance writes its own file, as each Asterisk would.

Lines are appended off the event loop, in order, by one writer at a time: a slow disk
never delays a caller's next prompt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from agents.state import AgentState, Move
from hotline.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)


def agent_event(what: Move, new: AgentState, reason: str,
                endpoint: str) -> tuple[str, tuple[object, ...]] | None:
    """An agent's move as the `queue_log` event (and data) app_queue writes for it, so
    reporting tools see sessions and pauses: AGENTLOGIN/AGENTLOGOFF, and PAUSEALL with
    the reason / UNPAUSEALL. None for the moves of a call, which have events of their
    own (CONNECT, COMPLETECALLER, RINGNOANSWER)."""
    if what is Move.LOG_IN:
        return "AGENTLOGIN", (endpoint,)
    if what is Move.LOG_OUT:
        return "AGENTLOGOFF", (endpoint, 0)
    if new is AgentState.NOT_READY:
        return "PAUSEALL", (reason,)
    if what is Move.GO_READY:
        return "UNPAUSEALL", ()
    return None


class QueueLog:
    def __init__(self, path: Path | None, clock: Callable[[], float],
                 supervisor: Supervisor) -> None:
        self.path = path
        self.clock = clock
        self.supervisor = supervisor
        self._unwritten: list[str] = []
        self._writer: asyncio.Task[None] | None = None

    def write(self, call_id: str, queue: str, agent: str, event: str, *data: object) -> None:
        if self.path is None:
            return
        who = f"Agent/{agent}" if agent else "NONE"
        fields = [str(int(self.clock())), call_id or "NONE", queue or "NONE", who, event,
                  *(str(d).replace("|", "/").replace("\n", " ") for d in data)]
        self._unwritten.append("|".join(fields) + "\n")
        if self._writer is None or self._writer.done():
            self._writer = self.supervisor.spawn(self._write_all(), "writing the queue_log")

    async def flushed(self) -> None:
        """Every line written so far is in the file (at a stop, say)."""
        if self._writer is not None and not self._writer.done():
            await asyncio.wait([self._writer], timeout=5)
        await self._write_all()

    async def _write_all(self) -> None:
        while self._unwritten:
            lines, self._unwritten = self._unwritten, []
            await asyncio.to_thread(self._append, lines)

    def _append(self, lines: list[str]) -> None:
        assert self.path is not None
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.writelines(lines)
        except OSError as exc:
            log.warning("queue_log %s: %d line(s) not written: %s", self.path, len(lines), exc)

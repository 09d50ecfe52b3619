"""Live updates: one reader of the floor's change stream per web process, and the open
pages it tells. The floor is read once per burst of changes, however many wallboards
are open; a desk is told only of its own agent's changes.

A reader that loses Redis says so to the pages (they show "reconnecting") and, once
back, reads the whole floor again: the stream may have moved on meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from web.floor import Floor
from web.reading import NoConfig

log = logging.getLogger(__name__)

# Changes that come within this long of the first are one update (a call answered
# moves an agent and a line a moment apart).
GATHER = 0.05
# One more reading this long after a burst: today's figures are counted a moment
# after the move that the stream tells of.
SETTLE = 0.75
BLOCK_MS = 2000  # well under the client's 5 s socket timeout


@dataclass(eq=False)
class Listener:
    """One open page. `agent_id`: the desk's agent; None for a wallboard."""

    agent_id: str | None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    last_change: str = ""  # the stream id of the latest change told
    # The stream id of the first change since the page was last updated: how late an
    # update is, is measured from it (bench/wallboard.py).
    first_change: str = ""


class Live:
    def __init__(self, redis: Redis, stream: str,
                 read_floor: Callable[[], Awaitable[Floor]]) -> None:
        self.redis = redis
        self.stream = stream
        self.read_floor = read_floor
        self.listeners: set[Listener] = set()
        self.floor: Floor | None = None
        self.connected = False
        self._last_id = "$"
        self._batch_first = ""  # the first change of the burst being gathered
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._follow_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def listen(self, agent_id: str | None) -> Listener:
        listener = Listener(agent_id)
        self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def current_floor(self) -> Floor:
        if self.floor is None:
            self.floor = await self.read_floor()
        return self.floor

    async def _follow_forever(self) -> None:
        pause, waiting_for_config = 0.5, False
        while True:
            try:
                await self._follow()
            except asyncio.CancelledError:
                raise
            except NoConfig as exc:
                if not waiting_for_config:
                    log.info("live updates wait: %s", exc)
                waiting_for_config = True
                await asyncio.sleep(pause)
            except (RedisError, OSError) as exc:
                if self.connected:
                    log.warning("live updates: Redis is unavailable (%s); retrying", exc)
                self.connected = False
                self._tell(None, "")
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
            except Exception:  # a bug must not end live updates for every page
                log.exception("live updates: reading the floor failed; retrying")
                await asyncio.sleep(pause)
            else:
                pause = 0.5

    async def _follow(self) -> None:
        if self._last_id == "$":  # no position yet: start from the newest entry
            newest = await self.redis.xrevrange(self.stream, count=1)
            self._last_id = str(newest[0][0]) if newest else "0-0"
        self.floor = await self.read_floor()
        self.connected = True
        self._tell(None, self._last_id)
        settle_at: float | None = None
        loop = asyncio.get_running_loop()
        while True:
            block = BLOCK_MS if settle_at is None else \
                max(1, int((settle_at - loop.time()) * 1000))
            agents = await self._read(block)
            if agents is None:  # nothing new within the block
                if settle_at is not None and loop.time() >= settle_at:
                    settle_at = None
                    self.floor = await self.read_floor()
                    self._tell(set(), self._last_id, desks=False)
                continue
            await asyncio.sleep(GATHER)
            more = await self._read(None)
            if more:
                agents |= more
            self.floor = await self.read_floor()
            self._tell(agents, self._last_id)
            settle_at = loop.time() + SETTLE

    async def _read(self, block: int | None) -> set[str] | None:
        """The agents named by changes after the last one read (None: no change)."""
        reply = cast(list[tuple[str, list[tuple[str, dict[str, str]]]]],
                     await self.redis.xread({self.stream: self._last_id}, count=1000,
                                            block=block))
        if not reply:
            return None
        agents: set[str] = set()
        for _, entries in reply:
            if entries and not self._batch_first:
                self._batch_first = str(entries[0][0])
            for entry_id, fields in entries:
                self._last_id = str(entry_id)
                if agent := fields.get("a"):
                    agents.add(str(agent))
        return agents

    def _tell(self, agents: set[str] | None, change: str, desks: bool = True) -> None:
        """Wake the pages that changed: every wallboard, and the desks of `agents`
        (None: every page, the link came or went)."""
        first, self._batch_first = self._batch_first, ""
        for listener in self.listeners:
            if listener.agent_id is None or agents is None or \
                    (desks and listener.agent_id in agents):
                if not listener.changed.is_set():
                    listener.first_change = first
                listener.last_change = change
                listener.changed.set()

"""Matching: pair free agents with waiting callers, best first, and connect each pair.

Decisions come from `routing.decide` over the live config read at each round, so a new
version's relaxation and priority rules apply to callers already waiting. Pairing an
agent with a call is one Redis script (`RoutingStore.reserve`), so two engine instances
never give one agent two calls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from config.model import HotlineConfig
from config.queues import Queue
from hotline.queues.connecting import Connector
from hotline.runtime.supervisor import Supervisor
from routing.decide import FreeAgents, WaitingCall, line_order
from routing.store import Reserved, RoutingStore


class Matcher:
    def __init__(self, store: RoutingStore, connector: Connector,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 supervisor: Supervisor, tick: float = 1.0) -> None:
        self.store = store
        self.connector = connector
        self.config = config
        self.clock = clock
        self.supervisor = supervisor
        self.tick = tick
        self._wake = asyncio.Event()
        # What connecting needs of callers waiting in this process, so ringing their
        # agent costs no read from Redis: call id -> channel, number, menu path. Only a
        # shortcut: a caller waiting in another process is read from Redis.
        self.here: dict[str, dict[str, str]] = {}

    def start(self) -> None:
        # A failed round (Redis away) is tried again soon: callers are waiting.
        self.supervisor.forever("matching", self._match_forever, pause_min=self.tick,
                                pause_max=5 * self.tick)

    def wake(self) -> None:
        self._wake.set()

    async def _match_forever(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick):
                    await self._wake.wait()
            self._wake.clear()
            await self.match_round()

    async def match_round(self) -> int:
        """Pair free agents with waiting callers, best first; returns the pairs made."""
        config, now = self.config(), self.clock()
        # The ready agents this version knows, indexed by skill, and the lines of the
        # queues one of them could serve (a queue nobody free fits even after every relax
        # step has no caller to pair now).
        free, lines = await self.store.view.match_reads(config.agents, config.queues)
        made = 0
        # One line across the queues: a diamond in one queue goes before a normal
        # caller in another when one agent could serve both.
        everyone = line_order([c for calls in lines.values() for c in calls], config.vip, now)
        for call in everyone:
            if not free:
                break
            agent_id = await self._reserve_best(config.queues[call.queue], call, now, free)
            if agent_id is not None:
                made += 1
                self.connect(config, call, agent_id)
        return made

    def connect(self, config: HotlineConfig, call: WaitingCall, agent_id: str) -> None:
        """Ring the agent reserved for `call`: at once for a caller on the line in this
        process, after a read of their details otherwise."""
        here = self.here.get(call.call_id)
        if here is not None:
            self.connector.ring_now(config, call, agent_id, here)
        else:
            self.supervisor.spawn(self.connector.connect(config, call, agent_id),
                                  "connecting a caller", call.call_id)

    async def _reserve_best(self, rules: Queue, call: WaitingCall, now: float,
                            free: FreeAgents) -> str | None:
        """Reserve the best free agent for `call`; the agent leaves `free` either way
        (reserved now, or no longer ready: another instance was first)."""
        while (chosen := free.pick(rules, now - call.arrived_at)) is not None:
            outcome = await self.store.reserve(chosen.agent_id, call, now)
            if outcome is Reserved.CALL_NOT_WAITING:
                return None
            free.remove(chosen.agent_id)
            if outcome is Reserved.YES:
                return chosen.agent_id
        return None

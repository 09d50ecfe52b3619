"""Matching: pair free agents with waiting callers, best first, and connect each pair.

Decisions come from `routing.decide` over the live config read at each round, so a new
version's relaxation and priority rules apply to callers already waiting. A round's
pairs are reserved together in one round trip (`RoutingStore.reserve_pairs`), each pair
atomically on its own, so two engine instances never give one agent two calls: a pair
whose agent or caller was taken meanwhile is refused, and its caller decided again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from agents.state import Move, MoveRefused
from config.model import HotlineConfig
from hotline.queues.connecting import Connector
from hotline.runtime.supervisor import Supervisor
from routing.decide import FreeAgent, WaitingCall, decide_pairs, line_order
from routing.store import Joined, Reserved, RoutingStore

# A round decides again at most this often after refusals: each pass loses at least
# the agents that were taken, so more passes than this means heavy contention; the
# next round carries on at once.
PASSES = 4


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
        # Callers reserved for an agent as their call was claimed (`hotline.calls.express`),
        # rung once their menu sends them to that queue: call id -> agent id, queue.
        self._reserved_ahead: dict[str, tuple[str, str]] = {}

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
        # One line across the queues: a diamond in one queue goes before a normal
        # caller in another when one agent could serve both.
        unpaired = line_order([c for calls in lines.values() for c in calls], config.vip, now)
        made = 0
        for _ in range(PASSES):
            pairs = decide_pairs(unpaired, free, config.queues, now)
            if not pairs:
                break
            outcomes = await self.store.reserve_pairs(
                [(agent.agent_id, call) for agent, call in pairs], now)
            settled: set[str] = set()  # reserved, or no longer waiting
            refused = False
            for (agent, call), outcome in zip(pairs, outcomes, strict=True):
                if outcome is Reserved.YES:
                    made += 1
                    settled.add(call.call_id)
                    self.connect(config, call, agent.agent_id)
                elif outcome is Reserved.CALL_NOT_WAITING:  # the agent is still free
                    settled.add(call.call_id)
                    free.add(agent.agent_id, agent.idle_since)
                    refused = True
                else:  # another instance took the agent: decided again, without them
                    refused = True
            if not refused:
                break  # those left unpaired fit nobody free
            unpaired = [call for call in unpaired if call.call_id not in settled]
        else:
            self.wake()
        return made

    async def join(self, config: HotlineConfig, call: WaitingCall, channel: str,
                   number: str, menu_path: str | None) -> Joined:
        """The caller joins their line. The express lane: with nobody else waiting and a
        free agent fitting the queue, the pair is reserved in the same round trip and the
        agent rung at once (reserved YES); a caller reserved an agent as their call was
        claimed (`reserved_ahead`) has that agent rung now. Otherwise the matcher's next
        round pairs them."""
        ahead = self._reserved_ahead.pop(call.call_id, None)
        if ahead is not None:
            agent_id, queue = ahead
            if queue == call.queue:  # reserved as the call was claimed: ring them now
                self.connect(config, call, agent_id)
                return Joined(Reserved.YES, 1)
            await self._release(call.call_id, agent_id)  # not where the menu led after all
        agent = self.take_free(config, call.queue, self.clock() - call.arrived_at)
        if agent is None:
            joined = await self.store.join(call, channel, number, menu_path)
            self.wake()
            return joined
        joined = await self.store.join(call, channel, number, menu_path, agent.agent_id,
                                       self.clock())
        if joined.reserved is Reserved.YES:
            self.connect(config, call, agent.agent_id)
            return joined
        if joined.reserved is None:  # others wait: the agent is still free
            self.give_back(config, agent)
        self.wake()
        return joined

    def take_free(self, config: HotlineConfig, queue: str, waited: float) -> FreeAgent | None:
        """The free agent the queue's rules pick, as last known, taken out of the index
        so that no round picks them meanwhile (`give_back` when they were not taken)."""
        free = self.store.view.known_free(config.agents)
        rules = config.queues.get(queue)
        agent = free.pick(rules, waited) if free is not None and rules is not None else None
        if agent is not None and free is not None:
            free.remove(agent.agent_id)
        return agent

    def known_ready(self, agent_id: str) -> bool | None:
        """Whether the agent was free at the last round's read (None: that read was for
        another config version's agents)."""
        free = self.store.view.known_free(self.config().agents)
        return None if free is None else agent_id in free

    def give_back(self, config: HotlineConfig, agent: FreeAgent) -> None:
        free = self.store.view.known_free(config.agents)
        if free is not None:
            free.add(agent.agent_id, agent.idle_since)

    def reserved_ahead(self, call_id: str, agent_id: str, queue: str) -> None:
        """`agent_id` was reserved for the call as it was claimed: rung when the caller
        joins `queue` (`join`), or let go when they never do (`release_ahead`)."""
        self._reserved_ahead[call_id] = (agent_id, queue)

    def release_ahead(self, call_id: str) -> None:
        """The call's session ended before its caller joined the queue they were
        reserved an agent in (they hung up, or the menu failed): the agent is free
        again and the call no longer offered."""
        ahead = self._reserved_ahead.pop(call_id, None)
        if ahead is not None:
            self.supervisor.spawn(self._release(call_id, ahead[0]),
                                  "letting go of an agent reserved ahead", call_id)

    async def _release(self, call_id: str, agent_id: str) -> None:
        await self.store.advance_call(call_id, "offered", "gone")
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.CANCEL_OFFER, self.clock(),
                                   reason="caller never joined", call_id=call_id)
        self.wake()

    def connect(self, config: HotlineConfig, call: WaitingCall, agent_id: str) -> None:
        """Ring the agent reserved for `call`: at once for a caller on the line in this
        process, after a read of their details otherwise."""
        here = self.here.get(call.call_id)
        if here is not None:
            self.connector.ring_now(config, call, agent_id, here)
        else:
            self.supervisor.spawn(self.connector.connect(config, call, agent_id),
                                  "connecting a caller", call.call_id)

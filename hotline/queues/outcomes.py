"""What Asterisk says about an offered call, acted on: the agent answered or not (RONA),
the conversation ended and wrap-up began, a caller came back to the engine after a ring
nobody answered. The rules are `routing.policy`; this module applies them to Redis.

Every engine instance sees each of these events; the one whose compare-and-set moves
the call on does the rest, so nothing is done twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from agents.state import Move, MoveRefused
from config.model import HotlineConfig
from hotline.queues.reporting import QueueReporting
from hotline.runtime.supervisor import Supervisor
from quality.sampling import ServedCall
from routing.decide import WaitingCall
from routing.policy import after_ring, wrap_up_ends
from routing.store import RoutingStore

log = logging.getLogger(__name__)


class CallOutcomes:
    def __init__(self, store: RoutingStore, report: QueueReporting,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 supervisor: Supervisor, wake_matching: Callable[[], None],
                 on_served: Callable[[ServedCall], Awaitable[None]] | None = None) -> None:
        self.store = store
        self.report = report
        self.config = config
        self.clock = clock
        self.supervisor = supervisor
        self.wake_matching = wake_matching
        # Called when an agent-served call ends (the satisfaction sample starts there).
        self.on_served = on_served

    async def dial_ended(self, call_id: str, status: str) -> None:
        fields = await self.store.call(call_id)
        agent_id = fields.get("agent")
        if fields.get("state") != "offered" or not agent_id:
            return
        now, after = self.clock(), after_ring(status)
        if after.answered:
            if not await self.store.advance_call(call_id, "offered", "connected"):
                return
            with contextlib.suppress(MoveRefused):
                await self.store.apply(agent_id, after.agent_move, now, call_id=call_id)
            await self.report.answered(call_id, fields, agent_id, now)
            return
        try:
            await self.store.apply(agent_id, after.agent_move, now, reason=after.reason,
                                   call_id=call_id)
        except MoveRefused:
            return
        log.info("agent %s did not answer call %s (%s): not ready", agent_id, call_id, status)
        await self.report.unanswered(call_id, fields.get("queue", ""), agent_id, now)

    async def call_ended(self, call_id: str) -> None:
        fields = await self.store.call(call_id)
        agent_id = fields.get("agent")
        if fields.get("state") != "connected" or not agent_id or \
                not await self.store.advance_call(call_id, "connected", "ended"):
            return
        now = self.clock()
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.CALL_ENDED, now, call_id=call_id)
        await self.report.completed(call_id, fields, agent_id)
        agent = self.config().agents.get(agent_id)
        ends = wrap_up_ends(now, agent.wrap_up if agent is not None else None)
        self.supervisor.spawn(self._end_wrap_up(agent_id, ends, call_id), "ending a wrap-up",
                              call_id)
        if self.on_served is not None:
            await self.on_served(ServedCall(call_id, fields.get("number", ""),
                                            fields.get("queue", ""), agent_id, now))

    async def _end_wrap_up(self, agent_id: str, at: float, call_id: str) -> None:
        await asyncio.sleep(max(0.0, at - self.clock()))
        # Only the wrap-up of this call: the agent may have ended it early (*5) and be
        # wrapping up another call by now.
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.WRAP_UP_DONE, self.clock(), call_id=call_id)
        self.wake_matching()

    async def returned(self, call_id: str) -> WaitingCall | None:
        """A caller back in AGI after an unanswered offer: where they were in line
        (`wait` with their arrival time puts them back there)."""
        fields = await self.store.call(call_id)
        if fields.get("state") != "offered":
            return None
        return WaitingCall(call_id, fields["queue"], float(fields["arrived_at"]),
                           fields.get("tier", "normal"), int(fields.get("boost", 0)))

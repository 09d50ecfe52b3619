"""What Asterisk says about an offered call, acted on: the agent answered or not (RONA),
the conversation ended and wrap-up began, a caller came back to the engine after a ring
nobody answered. The rules are `routing.policy`; this module applies them to Redis.

Every engine instance sees each of these events; the one whose compare-and-set moves
the call on does the rest, so nothing is done twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from agents.state import AgentState, Move, MoveRefused
from config.model import HotlineConfig
from config.phones import Phone
from hotline.queues.reporting import QueueReporting
from hotline.runtime.due_timers import DueTimers
from quality.sampling import ServedCall
from routing.decide import WaitingCall
from routing.policy import RingEnd, after_ring, wrap_up_ends
from routing.store import RoutingStore

log = logging.getLogger(__name__)


def about_the_call(fields: dict[str, str], channel: str) -> bool:
    """Whether an event naming `channel` is about the call whose routing record is
    `fields`. A caller ID carrying CR/LF can forge a whole AMI event with any call id,
    but not the name of a channel its sender cannot know. A customer called back has
    no channel on record until their leg dials the agent."""
    known = fields.get("channel", "")
    if known:
        return channel == known
    return bool(channel) and bool(fields.get("callback"))


class RecentCauses:
    """The hangup causes of channels asked to hang up a moment ago, until the DialEnd
    that follows reads them. Only a correlation of two events a few milliseconds
    apart, which every engine sees alike: bounded, and nothing a peer would need."""

    KEPT = 500

    def __init__(self) -> None:
        self._causes: OrderedDict[str, int] = OrderedDict()

    def note(self, channel: str, cause: int) -> None:
        self._causes[channel] = cause
        while len(self._causes) > self.KEPT:
            self._causes.popitem(last=False)

    def take(self, channel: str) -> int:
        return self._causes.pop(channel, 0)


WRAP_UP_ENDS = "wrap_up_ends"  # the due timer's kind: "agent id|call id"


class CallOutcomes:
    def __init__(self, store: RoutingStore, report: QueueReporting,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 wake_matching: Callable[[], None],
                 on_served: Callable[[ServedCall], Awaitable[None]] | None = None,
                 timers: DueTimers | None = None) -> None:
        self.store = store
        self.report = report
        self.config = config
        self.clock = clock
        self.wake_matching = wake_matching
        # Called when an agent-served call ends (the satisfaction sample starts there).
        self.on_served = on_served
        self.causes = RecentCauses()
        # Wrap-up ends are due times in Redis, which any engine runs (None: a queue
        # service alone, in tests, whose agents have no wrap-up).
        self.timers = timers
        if timers is not None:
            timers.on(WRAP_UP_ENDS, self._end_wrap_up)

    async def dial_ended(self, call_id: str, channel: str, leg: str, status: str) -> None:
        """The ring at the agent's phone (`leg`) ended with Asterisk's `status`."""
        cause = self.causes.take(leg)
        now, after = self.clock(), after_ring(status, cause)
        if after.answered:
            # A customer called back: their leg is on record from now on.
            # The agent's leg, for a supervisor listening in (`hotline.coaching`).
            moved, fields = await self.store.advance_call_on(
                call_id, channel, "offered", "connected", answered_at=f"{now:.3f}",
                agent_leg=leg)
            agent_id = fields.get("agent")
            if not moved or not agent_id:
                return
            with contextlib.suppress(MoveRefused):
                await self.store.apply(agent_id, after.agent_move, now, call_id=call_id,
                                       likely=AgentState.RESERVED)
            await self.report.answered(call_id, fields, agent_id, now)
            return
        fields = await self.store.call(call_id)
        agent_id = fields.get("agent")
        if not agent_id or not about_the_call(fields, channel):
            return
        after = after_ring(status, cause, self.phone_of(agent_id))  # a refusal names them
        # The caller may be back in line already (the dialplan returned them to the
        # engine before this event was handled): the agent's move is guarded by the
        # call the agent was reserved for, not by the call's state.
        try:
            new = await self.store.apply(agent_id, after.agent_move, now,
                                         reason=after.reason, call_id=call_id,
                                         likely=AgentState.RESERVED)
        except MoveRefused:
            return
        queue = fields.get("queue", "")
        if after.end is RingEnd.CALLER_HUNG_UP:
            log.info("call %s: the caller hung up while agent %s's phone rang", call_id,
                     agent_id)
            self.wake_matching()  # the agent is free again
            if await self.store.advance_call(call_id, "offered", "gone"):
                await self.report.abandoned(call_id, queue, fields.get("tier", "normal"),
                                            float(fields.get("arrived_at", now)))
            return
        if after.end is RingEnd.NOT_ANSWERED:
            log.info("agent %s did not answer call %s (%s): not ready", agent_id, call_id,
                     status)
        else:
            log.warning("agent %s's phone could not take call %s (%s): %s; not ready "
                        "until the phone is fixed or idle", agent_id, call_id, status,
                        after.reason)
        await self.report.unanswered(call_id, queue, agent_id, now)
        self.report.agent_moved(agent_id, after.agent_move, new, after.reason)

    async def call_ended(self, call_id: str, channel: str) -> None:
        moved, fields = await self.store.advance_call_on(call_id, channel, "connected",
                                                         "ended")
        agent_id = fields.get("agent")
        if not moved or not agent_id:  # a connected call has its agent on record
            return
        now = self.clock()
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.CALL_ENDED, now, call_id=call_id,
                                   likely=AgentState.ON_CALL)
        await self.report.completed(call_id, fields, agent_id)
        agent = self.config().agents.get(agent_id)
        ends = wrap_up_ends(now, agent.wrap_up if agent is not None else None)
        if ends <= now:
            await self._end_wrap_up(f"{agent_id}|{call_id}")
        else:
            assert self.timers is not None, "a wrap-up needs the engine's due timers"
            await self.timers.at(WRAP_UP_ENDS, f"{agent_id}|{call_id}", ends)
        if self.on_served is not None:
            await self.on_served(ServedCall(call_id, fields.get("number", ""),
                                            fields.get("queue", ""), agent_id, now))

    async def _end_wrap_up(self, agent_and_call: str) -> None:
        agent_id, _, call_id = agent_and_call.partition("|")
        # Only the wrap-up of this call: the agent may have ended it early (*5) and be
        # wrapping up another call by now.
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.WRAP_UP_DONE, self.clock(), call_id=call_id,
                                   likely=AgentState.WRAP_UP)
        self.wake_matching()

    def phone_of(self, agent_id: str) -> Phone | None:
        config = self.config()
        return config.phone(agent_id) if agent_id in config.agents else None

    async def returned(self, call_id: str, dial_status: str = "", cause: str = "", *,
                       unheard: bool = False) -> WaitingCall | None:
        """A caller back in AGI after an unanswered offer: where they were in line
        (`wait` with their arrival time puts them back there).

        The dialplan says how the ring ended. A phone that could not be dialled at all
        ends the Dial with no DialEnd, so the agent is settled here too: whichever of
        the two comes first moves the agent, the other finds them moved. `unheard`: the
        ring ended while no engine listened (it died); the agent is freed, not blamed."""
        fields = await self.store.call(call_id)
        if fields.get("state") != "offered":
            return None
        agent_id = fields.get("agent")
        after = after_ring(dial_status, int(cause) if cause.isdigit() else 0,
                           self.phone_of(agent_id)) if dial_status and agent_id else None
        if agent_id and (unheard or (after is not None and not after.answered)):
            what, reason = (Move.CANCEL_OFFER, "ring ended unheard") if after is None \
                else (after.agent_move, after.reason)
            with contextlib.suppress(MoveRefused):
                new = await self.store.apply(agent_id, what, self.clock(), reason=reason,
                                             call_id=call_id)
                self.report.agent_moved(agent_id, what, new, reason)
                log.info("call %s back in line: agent %s's ring ended %s", call_id,
                         agent_id, dial_status or "while no engine listened")
                self.wake_matching()
        return WaitingCall(call_id, fields["queue"], float(fields["arrived_at"]),
                           fields.get("tier", "normal"), int(fields.get("boost", 0)))

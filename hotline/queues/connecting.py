"""Connecting a caller to the agent the matcher reserved: the move to `hotline-connect`
and the screen pop's channel variables, or, for a caller kept in line for a callback,
the call back.

A caller waiting in this process is rung without yielding to the event loop: the
actions are on the wire the moment the reservation returns. One waiting in another
engine process is read from Redis first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable

from agents.state import Move, MoveRefused
from config.model import HotlineConfig
from hotline.desk.phones import auto_answer_option
from hotline.queues.callback_in_line import CONNECT_CONTEXT, CallbackInLine
from hotline.queues.reporting import QueueReporting
from hotline.runtime.supervisor import Supervisor
from pbx.ami import AmiActionFailed, AmiConnection, AmiError, AmiResponse
from routing.decide import WaitingCall
from routing.store import RoutingStore

log = logging.getLogger(__name__)

Action = dict[str, str | int]


class Connector:
    def __init__(self, ami: AmiConnection, store: RoutingStore, report: QueueReporting,
                 callbacks_in_line: CallbackInLine, clock: Callable[[], float],
                 wake_matching: Callable[[], None], dial_strings_set: Callable[[], bool],
                 supervisor: Supervisor) -> None:
        self.ami = ami
        self.store = store
        self.report = report
        self.callbacks_in_line = callbacks_in_line
        self.clock = clock
        self.wake_matching = wake_matching
        self.dial_strings_set = dial_strings_set  # True: Asterisk holds the dial strings
        self.supervisor = supervisor

    def ring_now(self, config: HotlineConfig, call: WaitingCall, agent_id: str,
                 fields: dict[str, str]) -> None:
        """Write the move to the agent's phone before returning; the screen pop's
        details follow once Asterisk has taken it, so they never delay the ring."""
        first, then = self.actions(config, call, agent_id, fields)
        rang_at = self.clock()  # the phone starts ringing now, not once the pop is set
        try:
            answers = [self.ami.start_action(a) for a in first]
        except AmiError as exc:
            self.supervisor.spawn(self._not_rung(call, agent_id, exc), "back in line",
                                  call.call_id)
            return
        self.supervisor.spawn(self._settle(config, call, agent_id, answers, then, rang_at),
                              "ringing an agent", call.call_id)

    async def connect(self, config: HotlineConfig, call: WaitingCall, agent_id: str) -> None:
        """A caller this process does not hold: their details come from Redis."""
        fields = await self.store.call(call.call_id)
        if fields.get("callback"):  # the caller hung up to be called back: call them now
            await self.callbacks_in_line.place(config, call, agent_id, fields)
            return
        self.ring_now(config, call, agent_id, fields)

    def actions(self, config: HotlineConfig, call: WaitingCall, agent_id: str,
                fields: dict[str, str]) -> tuple[list[Action], list[Action]]:
        """What to send at once (Asterisk runs one AMI session's actions in order), and
        what after. With the agents' dial strings in Asterisk, the Redirect alone names
        the ring time and the agent in its extension, and the screen pop's details
        follow while the phone rings; without, they all go before the Redirect."""
        agent, rules = config.agents[agent_id], config.queues.get(call.queue)
        ring = math.ceil(rules.ring_timeout if rules is not None else 15)
        channel, fast = fields["channel"], self.dial_strings_set()
        screen_pop = {"HOTLINE_AGENT_ID": agent_id, "HOTLINE_QUEUE": call.queue,
                      "HOTLINE_VIP_TIER": call.tier,
                      "HOTLINE_CALLER_NUMBER": fields.get("number", ""),
                      "HOTLINE_MENU_PATH": fields.get("menu_path", "")}
        if not fast:
            screen_pop |= {"HOTLINE_AGENT_DIAL": agent.endpoint,
                           "HOTLINE_RING_TIMEOUT": str(ring),
                           "HOTLINE_AUTO_ANSWER": auto_answer_option(config, agent_id)}
        setvars: list[Action] = [
            {"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value}
            for name, value in screen_pop.items()]
        if fast:
            return [{"Action": "Redirect", "Channel": channel, "Context": CONNECT_CONTEXT,
                     "Exten": f"{ring}-{agent_id}", "Priority": 1}], setvars
        return [*setvars, {"Action": "Redirect", "Channel": channel,
                           "Context": CONNECT_CONTEXT, "Exten": "s", "Priority": 1}], []

    async def _settle(self, config: HotlineConfig, call: WaitingCall, agent_id: str,
                      answers: list[Awaitable[AmiResponse]], then: list[Action],
                      rang_at: float) -> None:
        try:
            await asyncio.gather(*answers)
        except AmiError as exc:
            await self._not_rung(call, agent_id, exc)
            return
        # Stored before the screen pop's actions: an agent quick to answer must find the
        # ring's start (for the ring time in CONNECT), not a moment after the answer.
        await self.report.ringing(call.call_id, rang_at)
        try:
            await asyncio.gather(*(self.ami.send_action(a) for a in then))
        except AmiError as exc:  # ringing all the same; the agent's screen lacks details
            log.warning("call %s: screen pop for agent %s incomplete: %s", call.call_id,
                        agent_id, exc)
        log.info("call %s: ringing agent %s (%s) from queue %s", call.call_id, agent_id,
                 config.agents[agent_id].endpoint, call.queue)

    async def _not_rung(self, call: WaitingCall, agent_id: str, exc: Exception) -> None:
        if isinstance(exc, AmiActionFailed) and exc.no_such_channel:
            # The caller hung up (or was never there: an entry left from before a crash).
            # Back in line they would be matched and fail again, many times a second.
            log.info("call %s: the caller is gone; out of line, agent %s free again",
                     call.call_id, agent_id)
            if await self.store.advance_call(call.call_id, "offered", "gone"):
                await self.report.abandoned(call.call_id, call.queue, call.tier,
                                            call.arrived_at)
        else:
            log.warning("could not ring agent %s for call %s (%s); back in line", agent_id,
                        call.call_id, exc)
            await self.store.requeue(call.call_id, call.queue)
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.CANCEL_OFFER, self.clock(),
                                   call_id=call.call_id)
        self.wake_matching()

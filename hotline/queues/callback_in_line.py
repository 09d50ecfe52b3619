"""Callers who took the offer, at the maximum wait, to be called back without losing
their place. When the matcher gives one of them an agent, the customer is called on the
callback trunk and, once they answer, the agent's phone rings.

The callback's channel gets the original call's id: events about it (the agent
answering, the hangup, a customer who does not answer) land on the same call record,
statistics and wrap-up as any connected caller's.

The customer's leg is recorded like any call, from the moment they answer to its
hangup (`hotline-callback` in the dialplan starts it, before the agent's phone rings):
a recording of its own, filed and indexed with the call's (`RecordingKeeper`).
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable

from agents.state import Move, MoveRefused
from config.model import HotlineConfig
from hotline.desk.phones import auto_answer_option
from pbx.ami import AmiError
from pbx.events import CALL_VARIABLE
from pbx.originate import AmiOriginator
from quality.recordings import callback_recording_id, recording_source
from routing.decide import WaitingCall
from routing.store import RoutingStore

log = logging.getLogger(__name__)

CONNECT_CONTEXT = "hotline-connect"
CALLBACK_CONTEXT = "hotline-callback"  # records the customer's leg, then hotline-connect
ATTEMPTS = 3  # a customer who misses this many callbacks leaves the line


class CallbackInLine:
    def __init__(self, originator: AmiOriginator, store: RoutingStore,
                 clock: Callable[[], float], wake_matching: Callable[[], None],
                 recordings_dir: str | None) -> None:
        self.originator = originator
        self.store = store
        self.clock = clock
        self.wake_matching = wake_matching
        # Where Asterisk writes recordings (None: a queue service alone, in tests, that
        # places no recorded callback).
        self.recordings_dir = recordings_dir

    async def place(self, config: HotlineConfig, call: WaitingCall, agent_id: str,
                    fields: dict[str, str]) -> None:
        agent, rules = config.agents[agent_id], config.queues.get(call.queue)
        ring = math.ceil(rules.ring_timeout if rules is not None else 15)
        number = fields["callback"]
        recording, options = "", ""
        if config.recording.enabled:
            assert self.recordings_dir is not None, "a recorded callback needs the directory"
            # Each callback its own file: one answered, then another, never share one.
            attempt = await self.store.next_callback(call.call_id)
            recording, options = recording_source(
                self.recordings_dir, self.clock(), callback_recording_id(call.call_id, attempt),
                config.recording.format)
        # Stored before the Originate: the customer may answer at once.
        await self.store.callback_placed(call.call_id, recording)
        try:
            await self.originator.originate(
                config.backends.callback_trunk.format(number=number), context=CALLBACK_CONTEXT,
                exten="s", caller_id=f'"{config.name}" <{config.numbers.unified}>',
                channel_id=call.call_id, timeout=config.sampling.ring_for, variables={
                    CALL_VARIABLE: call.call_id,  # its events are the call's
                    "HOTLINE_AGENT_ID": agent_id, "HOTLINE_AGENT_DIAL": agent.endpoint,
                    "HOTLINE_AUTO_ANSWER": auto_answer_option(config, agent_id),
                    "HOTLINE_RING_TIMEOUT": str(ring), "HOTLINE_QUEUE": call.queue,
                    "HOTLINE_VIP_TIER": call.tier, "HOTLINE_CALLER_NUMBER": number,
                    "HOTLINE_MENU_PATH": fields.get("menu_path", ""),
                    "HOTLINE_CALLBACK": "yes", "HOTLINE_RECORDING": recording,
                    "HOTLINE_RECORDING_OPTIONS": options})
        except AmiError as exc:
            await self.missed(call.call_id, f"not placed: {exc}")
            return
        log.info("call %s: calling %s back for agent %s", call.call_id, number, agent_id)

    async def missed(self, call_id: str, reason: str) -> None:
        """The customer did not answer the callback (or it could not be placed): the
        agent is free again, and the customer keeps their place for another try."""
        fields = await self.store.call(call_id)
        if not fields.get("callback") or fields.get("state") != "offered":
            return
        agent_id = fields.get("agent", "")
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.CANCEL_OFFER, self.clock(), call_id=call_id)
        tries = await self.store.callback_missed(call_id)
        if tries < ATTEMPTS and await self.store.requeue(call_id, fields.get("queue", "")):
            log.info("call %s: callback %d missed (%s); still in line", call_id, tries, reason)
        else:
            await self.store.leave(call_id, fields.get("queue", ""))
            log.warning("call %s: callback missed %d times (%s); left the line", call_id,
                        tries, reason)
        self.wake_matching()

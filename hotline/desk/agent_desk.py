"""Agents at their phones: feature codes dialled from the softphone (through the same
AsyncAGI path as callers), and the phone's device state keeping the agent's state true.
The rules are `agents.keys`; this module applies them to the agents in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from redis.exceptions import RedisError

from agents.keys import (
    BUSY,
    Asked,
    asked_for,
    presence_may_move,
    presence_move,
    presence_worth_a_read,
)
from agents.state import AgentState, Move, MoveRefused, move
from config.model import HotlineConfig
from pbx.ports import CallControl, CallGone
from routing.store import RoutingStore

log = logging.getLogger(__name__)

DONE = {Move.LOG_IN: "agent-loginok", Move.LOG_OUT: "agent-loggedoff"}
REFUSED = "pbx-invalid"
# A feature-code call makes the agent's own phone busy, and the device state saying so
# can come a moment after the call. That is not "busy on another call".
KEYPAD_GRACE = 3.0
FEATURE_CODE_SETTLE = 1.0  # seconds from a phone going busy to the code reaching us


class AgentDesk:
    def __init__(self, store: RoutingStore, config: Callable[[], HotlineConfig],
                 clock: Callable[[], float], wake_matching: Callable[[], None],
                 moved: Callable[[str, Move, AgentState, str], None] = lambda *_: None,
                 known_ready: Callable[[str], bool | None] = lambda _: None) -> None:
        """`known_ready(agent id)`: whether the agent was ready at the matcher's last
        read (None: not known), which spares a read of the agent for most device
        states."""
        self.store = store
        self.known_ready = known_ready
        self.moved = moved  # told of every move made here (the queue_log's sessions)
        self.config = config
        self.clock = clock
        self.wake_matching = wake_matching
        self._at_keypad: dict[str, int] = {}  # agent -> feature-code calls under way
        self._device_states: dict[str, str] = {}  # device -> the last state it reported
        # Agents by their phone (lower case), for the config they were read from: every
        # device state change of the floor asks, at thousands of agents.
        self._by_device: tuple[HotlineConfig | None, dict[str, str]] = (None, {})

    def agent_at(self, device: str) -> str | None:
        """The agent whose phone `device` is (`PJSIP/agent-1001`), if any."""
        config = self.config()
        read_from, by_device = self._by_device
        if read_from is not config:
            by_device = {}
            for agent_id, agent in config.agents.items():
                by_device.setdefault(agent.endpoint.lower(), agent_id)  # the first, as before
            self._by_device = (config, by_device)
        return by_device.get(device.lower())

    async def feature_code(self, line: CallControl, endpoint: str, code: str) -> str:
        """An agent dialled `code`; returns what happened, in words, for the call log."""
        agent_id = self.agent_at(f"PJSIP/{endpoint}")
        if agent_id is None:
            await self._answer(line, REFUSED)
            return f"feature code {code} from {endpoint}, which is no agent's phone"
        self._at_keypad[agent_id] = self._at_keypad.get(agent_id, 0) + 1
        try:
            return await self._feature_code(line, agent_id, code)
        finally:
            asyncio.get_running_loop().call_later(KEYPAD_GRACE, self._left_keypad, agent_id)

    async def _feature_code(self, line: CallControl, agent_id: str, code: str) -> str:
        asked = asked_for(code, self.config().not_ready_reasons)
        if isinstance(asked, str):
            await self._answer(line, REFUSED)
            return f"agent {agent_id}: {asked}"
        if asked.move is Move.GO_READY:
            return await self._ready_after_hanging_up(line, agent_id, code, asked)
        try:
            new = await self._apply(agent_id, asked)
        except MoveRefused as exc:
            await self._answer(line, REFUSED)
            return f"agent {agent_id}: {code} refused: {exc}"
        await self._answer(line, DONE.get(asked.move, "beep"))
        return f"agent {agent_id}: {code} -> {new.value}"

    async def _ready_after_hanging_up(self, line: CallControl, agent_id: str, code: str,
                                      asked: Asked) -> str:
        """Ready only once this feature-code call is over: a phone that takes one call
        at a time would answer a caller rung meanwhile with 486 Busy."""
        try:
            move(await self.store.agent_state(agent_id), asked.move)
        except MoveRefused as exc:
            await self._answer(line, REFUSED)
            return f"agent {agent_id}: {code} refused: {exc}"
        with contextlib.suppress(CallGone):  # hung up on, or by the agent: ready all the same
            await self._answer(line, "beep")
        try:
            new = await self._apply(agent_id, asked)
        except MoveRefused as exc:  # moved meanwhile (another code, a supervisor)
            return f"agent {agent_id}: {code} refused after the call: {exc}"
        return f"agent {agent_id}: {code} -> {new.value}"

    def _left_keypad(self, agent_id: str) -> None:
        left = self._at_keypad.get(agent_id, 1) - 1
        if left > 0:
            self._at_keypad[agent_id] = left
        else:
            self._at_keypad.pop(agent_id, None)

    def device_heard(self, device: str, state: str) -> bool:
        """The phone's latest state, noted as soon as it is heard (`device_changed` runs
        after the phone's earlier changes are handled, and asks whether it still holds).
        Returns whether `device_changed` has anything to do: most of a floor's device
        changes are callers' and trunks' channels, or a ringing phone, and cost no task."""
        if self.agent_at(device) is None:
            return False
        self._device_states[device] = state
        return presence_may_move(state)

    async def device_changed(self, device: str, state: str) -> None:
        agent_id = self.agent_at(device)
        if agent_id is None:
            return
        self._device_states.setdefault(device, state)
        if not presence_may_move(state):
            return
        if state in BUSY:
            # The phone goes busy as its own feature-code call starts, a moment before
            # the engine hears the code: "busy on another call" only once it is clear
            # the phone is busy with something else, and still busy.
            await asyncio.sleep(FEATURE_CODE_SETTLE)
            if agent_id in self._at_keypad or self._device_states.get(device) != state or \
                    not presence_worth_a_read(state, self.known_ready(agent_id)):
                return
        try:
            fields = await self.store.agent(agent_id)
            asked = presence_move(state, fields.get("state", AgentState.LOGGED_OUT.value),
                                  fields.get("reason", ""))
            if asked is not None:
                await self._apply(agent_id, asked)
                log.info("agent %s: phone %s is %s -> %s", agent_id, device, state,
                         asked.reason or "ready")
        except MoveRefused as exc:  # the agent moved meanwhile; the next change will tell
            log.debug("agent %s: presence move skipped: %s", agent_id, exc)
        except RedisError as exc:
            log.warning("agent %s: phone is %s but Redis is unavailable: %s", agent_id,
                        state, exc)

    async def _apply(self, agent_id: str, asked: Asked) -> AgentState:
        new = await self.store.apply(agent_id, asked.move, self.clock(), asked.reason)
        self.moved(agent_id, asked.move, new, asked.reason)
        if new is AgentState.READY:
            self.wake_matching()
        return new

    async def _answer(self, line: CallControl, prompt: str) -> None:
        await line.play(prompt)
        await line.hang_up()

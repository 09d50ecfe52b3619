"""An agent at the phone: a feature code makes its own phone busy for a moment, which is
not "busy on another call"."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from agents.state import AgentState, Move, move
from hotline.desk import agent_desk
from hotline.desk.agent_desk import AgentDesk
from pbx.ports import Call
from tests.doubles import ScriptedLine, hotline_config


class _Agents:
    """The routing store's agent moves, in memory."""

    def __init__(self) -> None:
        self.states = {"1001": AgentState.NOT_READY}
        self.reasons: dict[str, str] = {}

    async def agent(self, agent_id: str) -> dict[str, str]:
        return {"state": self.states[agent_id].value, "reason": self.reasons.get(agent_id, "")}

    async def agent_state(self, agent_id: str) -> AgentState:
        return self.states[agent_id]

    async def apply(self, agent_id: str, what: Move, now: float, reason: str = "",
                    call_id: str = "") -> AgentState:
        self.states[agent_id] = move(self.states[agent_id], what)
        self.reasons[agent_id] = reason
        return self.states[agent_id]


async def test_the_phone_busy_with_its_own_feature_code_keeps_the_agent_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agent_desk, "FEATURE_CODE_SETTLE", 0.05)
    monkeypatch.setattr(agent_desk, "KEYPAD_GRACE", 0.2)  # longer than the settle, as live
    config = hotline_config()
    agent_id, agent = next(iter(config.agents.items()))
    agents = _Agents()
    agents.states = {agent_id: AgentState.READY}
    desk = AgentDesk(cast(Any, agents), lambda: config, lambda: 1.0, lambda: None)
    # A ready agent dials a code: the phone goes busy as that call starts, and the code
    # reaches the engine a moment after.
    busy = asyncio.ensure_future(desk.device_changed(agent.endpoint, "INUSE"))
    await asyncio.sleep(0)  # the device state is heard first
    line = ScriptedLine(Call("agent.1", f"{agent.endpoint}-0001", "", "", "*5"))
    said = await desk.feature_code(line, agent.endpoint.split("/", 1)[1], "*5")
    await busy
    assert "refused" in said  # no wrap-up to end
    assert agents.states[agent_id] is AgentState.READY

    # Later the phone is busy with a call of its own, and still busy a moment after.
    await asyncio.sleep(0.3)  # the code's call is long over
    await desk.device_changed(agent.endpoint, "INUSE")
    assert agents.states[agent_id] is AgentState.NOT_READY
    assert agents.reasons[agent_id] == "busy on another call"


def test_only_an_agents_phone_in_a_state_that_can_move_them_is_worth_a_task() -> None:
    config = hotline_config()
    agent_id, agent = next(iter(config.agents.items()))
    agents = _Agents()
    agents.states = {agent_id: AgentState.READY}
    desk = AgentDesk(cast(Any, agents), lambda: config, lambda: 1.0, lambda: None)
    # A caller's channel, a trunk: not an agent's phone, whatever its state.
    assert not desk.device_heard("Local/10000@hotline-in", "INUSE")
    assert not desk.device_heard("PJSIP/trunk", "UNAVAILABLE")
    # The agent's phone ringing or on hold says nothing of the agent.
    assert not desk.device_heard(agent.endpoint, "RINGING")
    assert not desk.device_heard(agent.endpoint.upper(), "ONHOLD")
    # Switched off, back, busy: each may move the agent.
    assert desk.device_heard(agent.endpoint, "UNAVAILABLE")
    assert desk.device_heard(agent.endpoint, "NOT_INUSE")
    assert desk.device_heard(agent.endpoint, "INUSE")

from __future__ import annotations

from pathlib import Path

import pytest

from agents.state import AgentState, Move, MoveRefused, move
from config.loader import load
from routing.decide import FreeAgent, WaitingCall, line_order, pick_agent, required_proficiency

CONFIG = load(Path(__file__).resolve().parents[2] / "config" / "hotline.yaml")
GENERAL = CONFIG.queues["general"]  # general ≥ 6; after 30 s ≥ 3; after 90 s ≥ 1


def test_relax_steps_lower_the_bar_as_the_caller_waits() -> None:
    assert required_proficiency(GENERAL, 0) == {"general": 6}
    assert required_proficiency(GENERAL, 30) == {"general": 3}
    assert required_proficiency(GENERAL, 120) == {"general": 1}


def test_best_proficiency_then_longest_idle() -> None:
    agents = [FreeAgent("a", {"general": 7}, idle_since=50.0),
              FreeAgent("b", {"general": 9}, idle_since=90.0),
              FreeAgent("c", {"general": 9}, idle_since=10.0),
              FreeAgent("d", {"general": 2}, idle_since=0.0)]
    assert pick_agent(GENERAL, 0, agents).agent_id == "c"  # type: ignore[union-attr]
    assert pick_agent(GENERAL, 0, [agents[3]]) is None
    assert pick_agent(GENERAL, 100, [agents[3]]).agent_id == "d"  # type: ignore[union-attr]


def test_vips_first_but_a_long_wait_is_bounded() -> None:
    now = 1000.0
    normal_old = WaitingCall("n1", "general", arrived_at=now - 100, tier="normal")
    gold_new = WaitingCall("g1", "general", arrived_at=now - 5, tier="gold")
    diamond_new = WaitingCall("d1", "general", arrived_at=now - 1, tier="diamond")
    order = line_order([normal_old, gold_new, diamond_new], CONFIG.vip, now)
    assert [c.call_id for c in order] == ["d1", "g1", "n1"]
    # Past normal's guaranteed 5 minutes, the normal caller is served next.
    overdue = WaitingCall("n2", "general", arrived_at=now - 301, tier="normal")
    assert line_order([diamond_new, overdue], CONFIG.vip, now)[0].call_id == "n2"


def test_agent_moves_and_refusals() -> None:
    state = move(AgentState.LOGGED_OUT, Move.LOG_IN)
    state = move(state, Move.GO_READY)
    state = move(state, Move.RESERVE)
    assert move(state, Move.NO_ANSWER) is AgentState.NOT_READY
    assert move(move(state, Move.ANSWER), Move.CALL_ENDED) is AgentState.WRAP_UP
    with pytest.raises(MoveRefused, match="an agent who is logged out cannot reserve"):
        move(AgentState.LOGGED_OUT, Move.RESERVE)

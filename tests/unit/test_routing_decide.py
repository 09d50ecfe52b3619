"""Who is served first, and by which agent."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.state import AgentState, Move, MoveRefused, move
from config.loader import load
from config.queues import Queue, RelaxStep, TierRule, Vip
from routing.decide import (
    FreeAgent,
    WaitingCall,
    can_serve,
    line_order,
    pick_agent,
    priority,
    required_proficiency,
)

# A frozen copy of the shipped example, so that editing the example breaks no unit test.
CONFIG = load(Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml")
GENERAL = CONFIG.queues["general"]  # general ≥ 6; after 30 s ≥ 3; after 90 s ≥ 1
NOW = 10_000.0


def test_relax_steps_lower_the_bar_as_the_caller_waits() -> None:
    assert required_proficiency(GENERAL, 0) == {"general": 6}
    assert required_proficiency(GENERAL, 29.9) == {"general": 6}
    assert required_proficiency(GENERAL, 30) == {"general": 3}
    assert required_proficiency(GENERAL, 120) == {"general": 1}


def test_relaxing_never_raises_a_skill_and_the_lowest_step_reached_counts() -> None:
    queue = Queue(name="Q", skills={"billing": 8, "english": 2},
                  relax=[RelaxStep(after=60, min_proficiency=1),
                         RelaxStep(after=20, min_proficiency=4)])  # listed out of order
    assert required_proficiency(queue, 0) == {"billing": 8, "english": 2}
    assert required_proficiency(queue, 20) == {"billing": 4, "english": 2}
    assert required_proficiency(queue, 60) == {"billing": 1, "english": 1}


def test_an_agent_needs_every_skill_at_its_level() -> None:
    agent = FreeAgent("a", {"billing": 5, "english": 3}, idle_since=0.0)
    assert can_serve(agent, {"billing": 5})
    assert can_serve(agent, {"billing": 5, "english": 3})
    assert not can_serve(agent, {"billing": 6})
    assert not can_serve(agent, {"billing": 1, "faults": 1})  # a skill they lack
    assert can_serve(agent, {})


def test_best_proficiency_then_longest_idle() -> None:
    agents = [FreeAgent("a", {"general": 7}, idle_since=50.0),
              FreeAgent("b", {"general": 9}, idle_since=90.0),
              FreeAgent("c", {"general": 9}, idle_since=10.0),
              FreeAgent("d", {"general": 2}, idle_since=0.0)]
    assert pick_agent(GENERAL, 0, agents).agent_id == "c"  # type: ignore[union-attr]
    assert pick_agent(GENERAL, 0, [agents[3]]) is None
    assert pick_agent(GENERAL, 100, [agents[3]]).agent_id == "d"  # type: ignore[union-attr]


def test_best_proficiency_adds_up_the_queue_skills_only() -> None:
    queue = Queue(name="Q", skills={"billing": 1, "english": 1})
    agents = [FreeAgent("narrow", {"billing": 6, "english": 6, "faults": 10}, idle_since=0.0),
              FreeAgent("broad", {"billing": 7, "english": 6}, idle_since=5.0)]
    assert pick_agent(queue, 0, agents).agent_id == "broad"  # type: ignore[union-attr]


def test_longest_idle_takes_whoever_has_waited_for_a_call_longest() -> None:
    queue = Queue(name="Q", skills={"billing": 1}, strategy="longest_idle")
    agents = [FreeAgent("expert", {"billing": 10}, idle_since=300.0),
              FreeAgent("novice", {"billing": 1}, idle_since=100.0),
              FreeAgent("other", {"faults": 9}, idle_since=0.0)]
    assert pick_agent(queue, 0, agents).agent_id == "novice"  # type: ignore[union-attr]
    assert pick_agent(queue, 0, agents, {"novice": 50.0}).agent_id == "novice"  # type: ignore[union-attr]


def test_round_robin_takes_the_agent_served_least_recently() -> None:
    queue = Queue(name="Q", skills={"billing": 1}, strategy="round_robin")
    agents = [FreeAgent("a", {"billing": 9}, idle_since=10.0),
              FreeAgent("b", {"billing": 2}, idle_since=20.0),
              FreeAgent("c", {"billing": 5}, idle_since=30.0)]
    served = {"a": 900.0, "b": 700.0, "c": 800.0}
    assert pick_agent(queue, 0, agents, served).agent_id == "b"  # type: ignore[union-attr]
    # Nobody served yet: by agent id, whatever their skill or idle time.
    assert pick_agent(queue, 0, agents[::-1]).agent_id == "a"  # type: ignore[union-attr]
    assert pick_agent(queue, 0, agents[::-1], {}).agent_id == "a"  # type: ignore[union-attr]
    # An agent never served goes before one served, even at the simulator's t = 0.5.
    assert pick_agent(queue, 0, agents, {"a": 0.5, "c": 0.5}).agent_id == "b"  # type: ignore[union-attr]
    assert pick_agent(queue, 0, agents, {"a": 0.5, "b": 0.7}).agent_id == "c"  # type: ignore[union-attr]


def test_nobody_fits_nobody_is_picked() -> None:
    for strategy in ("best_proficiency", "longest_idle", "round_robin"):
        queue = Queue(name="Q", skills={"billing": 5}, strategy=strategy)  # type: ignore[arg-type]
        assert pick_agent(queue, 0, [FreeAgent("a", {"billing": 4}, 0.0)]) is None
        assert pick_agent(queue, 0, []) is None


VIP = Vip(aging=0.5, tiers={"gold": TierRule(priority=100, max_wait=30),
                             "normal": TierRule(priority=0, max_wait=120)})


def waiting(call_id: str, waited: float, tier: str = "normal", boost: int = 0) -> WaitingCall:
    return WaitingCall(call_id, "general", arrived_at=NOW - waited, tier=tier, boost=boost)


def test_priority_is_the_tier_weight_plus_boost_plus_aging() -> None:
    assert priority(waiting("g", 0, "gold"), VIP, NOW) == 100
    assert priority(waiting("g", 10, "gold", boost=7), VIP, NOW) == 100 + 7 + 5
    assert priority(waiting("n", 40), VIP, NOW) == 20
    # A tier the rules do not name weighs nothing, but ages like everyone else.
    assert priority(waiting("s", 0, "silver"), VIP, NOW) == 0
    assert priority(waiting("s", 8, "silver", boost=1), VIP, NOW) == 5
    # A clock that is behind the arrival gives no negative aging.
    assert priority(waiting("n", -20), VIP, NOW) == 0


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


def test_a_caller_past_the_guaranteed_wait_goes_ahead_of_any_priority() -> None:
    gold = waiting("gold", 1, "gold")  # priority 100.5
    due = waiting("due", 120)  # priority 60, and exactly at normal's guaranteed wait
    almost = waiting("almost", 119)
    assert [c.call_id for c in line_order([gold, due, almost], VIP, NOW)] == \
        ["due", "gold", "almost"]


def test_among_overdue_callers_priority_then_arrival() -> None:
    gold_due = waiting("gold_due", 30, "gold")  # 115
    normal_due = waiting("normal_due", 200)  # 100
    gold_waiting = waiting("gold_waiting", 10, "gold")  # 105, not yet due
    order = line_order([gold_waiting, normal_due, gold_due], VIP, NOW)
    assert [c.call_id for c in order] == ["gold_due", "normal_due", "gold_waiting"]
    # Same priority, different arrival: the earlier caller first.
    early = WaitingCall("early", "general", arrived_at=NOW - 10, tier="normal", boost=5)
    late = WaitingCall("late", "general", arrived_at=NOW - 0, tier="normal", boost=10)
    assert [c.call_id for c in line_order([late, early], VIP, NOW)] == ["early", "late"]


def test_a_tier_without_rules_has_no_guarantee() -> None:
    silver = waiting("silver", 10_000, "silver")  # priority 5000, never overdue
    due = waiting("due", 120)
    assert [c.call_id for c in line_order([silver, due], VIP, NOW)] == ["due", "silver"]


def test_agent_moves_and_refusals() -> None:
    state = move(AgentState.LOGGED_OUT, Move.LOG_IN)
    state = move(state, Move.GO_READY)
    state = move(state, Move.RESERVE)
    assert move(state, Move.NO_ANSWER) is AgentState.NOT_READY
    assert move(move(state, Move.ANSWER), Move.CALL_ENDED) is AgentState.WRAP_UP
    with pytest.raises(MoveRefused, match="an agent who is logged out cannot reserve"):
        move(AgentState.LOGGED_OUT, Move.RESERVE)

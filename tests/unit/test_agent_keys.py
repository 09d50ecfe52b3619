"""Feature codes from an agent's phone, and what the phone's device state says."""

from __future__ import annotations

from agents.keys import (
    BUSY_ELSEWHERE,
    PHONE_UNREACHABLE,
    Asked,
    asked_for,
    presence_may_move,
    presence_move,
    presence_worth_a_read,
)
from agents.state import AgentState, Move
from pbx.pjsip_agents import default_phones, phone_password, render, sip_name

REASONS = {"1": "break", "2": "lunch"}


def test_feature_codes_ask_for_moves() -> None:
    assert asked_for("*1", REASONS) == Asked(Move.LOG_IN)
    assert asked_for("*2", REASONS) == Asked(Move.LOG_OUT)
    assert asked_for("*3", REASONS) == Asked(Move.GO_READY)
    assert asked_for("*42", REASONS) == Asked(Move.GO_NOT_READY, "lunch")
    assert asked_for("*5", REASONS) == Asked(Move.WRAP_UP_DONE)


def test_a_code_that_means_nothing_says_why() -> None:
    assert asked_for("*4", REASONS) == "not ready needs a reason digit after *4 (1 break, 2 lunch)"
    assert asked_for("*47", REASONS) == \
        "not ready needs a reason digit after *4 (1 break, 2 lunch)"
    assert asked_for("*9", REASONS) == "*9 is not a feature code"


def test_a_phone_that_is_gone_takes_a_ready_agent_out() -> None:
    assert presence_move("UNAVAILABLE", "ready", "") == Asked(Move.GO_NOT_READY,
                                                               PHONE_UNREACHABLE)
    assert presence_move("UNAVAILABLE", "wrap_up", "") == Asked(Move.GO_NOT_READY,
                                                                 PHONE_UNREACHABLE)
    # An agent who chose to be not ready keeps their own reason.
    assert presence_move("UNAVAILABLE", "not_ready", "lunch") is None
    assert presence_move("UNAVAILABLE", "logged_out", "") is None


def test_a_phone_busy_on_another_call_takes_the_agent_out_until_it_is_idle() -> None:
    assert presence_move("INUSE", "ready", "") == Asked(Move.GO_NOT_READY, BUSY_ELSEWHERE)
    assert presence_move("INUSE", "reserved", "") is None  # the engine's own call
    assert presence_move("INUSE", "on_call", "") is None
    assert presence_move("NOT_INUSE", "not_ready", BUSY_ELSEWHERE) == Asked(Move.GO_READY)
    assert presence_move("NOT_INUSE", "not_ready", PHONE_UNREACHABLE) == Asked(Move.GO_READY)
    assert presence_move("NOT_INUSE", "not_ready", "no answer") is None  # RONA stays
    assert presence_move("NOT_INUSE", "not_ready", "lunch") is None


def test_one_endpoint_per_pjsip_agent_with_a_derived_password() -> None:
    text = render(default_phones(["PJSIP/agent-1001", "Local/1002@sim-agent",
                                  "PJSIP/agent-1001"]), b"k")
    assert text.count("[agent-1001]") == 3 and "1002" not in text
    assert f"password = {phone_password(b'k', 'agent-1001')}" in text
    assert phone_password(b"k", "agent-1001") != phone_password(b"other", "agent-1001")
    assert "context = hotline-agents" in text and "qualify_frequency" in text
    assert sip_name("PJSIP/agent-1001") == "agent-1001" and sip_name("SIP/x") is None


def test_an_invalid_device_is_a_phone_that_is_gone() -> None:
    assert presence_move("INVALID", "ready", "") == Asked(Move.GO_NOT_READY, PHONE_UNREACHABLE)
    assert presence_move("INVALID", "logged_out", "") is None


def test_a_phone_gone_after_a_busy_spell_changes_the_reason_to_unreachable() -> None:
    # Not ready because the phone was busy elsewhere; now it is gone: still the phone's doing.
    assert presence_move("UNAVAILABLE", "not_ready", BUSY_ELSEWHERE) == \
        Asked(Move.GO_NOT_READY, PHONE_UNREACHABLE)
    assert presence_move("INVALID", "not_ready", BUSY_ELSEWHERE) == \
        Asked(Move.GO_NOT_READY, PHONE_UNREACHABLE)
    # Already unreachable: nothing new to say.
    assert presence_move("UNAVAILABLE", "not_ready", PHONE_UNREACHABLE) is None
    # Agents on the engine's own call, or out, are left alone whatever the stale reason.
    for state in ("logged_out", "reserved", "ringing", "on_call"):
        assert presence_move("UNAVAILABLE", state, BUSY_ELSEWHERE) is None


def test_every_busy_device_state_takes_only_a_ready_agent_out() -> None:
    for busy in ("INUSE", "BUSY", "RINGINUSE"):
        assert presence_move(busy, "ready", "") == Asked(Move.GO_NOT_READY, BUSY_ELSEWHERE)
        for state in ("not_ready", "wrap_up", "reserved", "ringing", "on_call", "logged_out"):
            assert presence_move(busy, state, "") is None


def test_an_idle_phone_brings_back_only_the_agents_it_took_out() -> None:
    for state in ("ready", "wrap_up", "logged_out", "reserved"):
        assert presence_move("NOT_INUSE", state, BUSY_ELSEWHERE) is None
    assert presence_move("RINGING", "not_ready", BUSY_ELSEWHERE) is None
    assert presence_move("UNKNOWN", "ready", "") is None


def test_a_reason_digit_picks_that_reason_and_only_a_listed_one() -> None:
    reasons = {"3": "training", "1": "break"}
    assert asked_for("*43", reasons) == Asked(Move.GO_NOT_READY, "training")
    assert asked_for("*41", reasons) == Asked(Move.GO_NOT_READY, "break")
    assert asked_for("*413", reasons) == \
        "not ready needs a reason digit after *4 (1 break, 3 training)"
    assert asked_for("*4", {}) == "not ready needs a reason digit after *4 ()"
    assert asked_for("4", reasons) == "4 is not a feature code"
    assert asked_for("", reasons) == " is not a feature code"
    assert asked_for("*1", reasons).reason == ""  # type: ignore[union-attr]


def test_only_device_states_presence_can_act_on_are_looked_into() -> None:
    """A state for which no agent state leads to a move is skipped before any read; the
    others are exactly those where some agent state does."""
    states = ["UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING",
              "RINGINUSE", "ONHOLD"]
    agent_states = [s.value for s in AgentState]
    reasons = ["", BUSY_ELSEWHERE, PHONE_UNREACHABLE, "lunch"]
    for device in states:
        acts = any(presence_move(device, agent, reason) is not None
                   for agent in agent_states for reason in reasons)
        assert presence_may_move(device) == acts, device


def test_a_phone_going_busy_needs_no_read_of_an_agent_known_not_ready() -> None:
    """Skipped reads are exactly those where no state but ready could be moved: a busy
    phone moves only a ready agent; any other device state is read whatever is known."""
    states = ["UNKNOWN", "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING",
              "RINGINUSE", "ONHOLD"]
    reasons = ["", BUSY_ELSEWHERE, PHONE_UNREACHABLE, "lunch"]
    not_ready = [s.value for s in AgentState if s is not AgentState.READY]
    for device in states:
        assert presence_worth_a_read(device, None) == presence_may_move(device), device
        assert presence_worth_a_read(device, True) == presence_may_move(device), device
        moves_others = any(presence_move(device, agent, reason) is not None
                           for agent in not_ready for reason in reasons)
        assert presence_worth_a_read(device, False) == moves_others, device

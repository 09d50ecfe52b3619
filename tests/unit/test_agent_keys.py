"""Feature codes from an agent's phone, and what the phone's device state says."""

from __future__ import annotations

from agents.keys import (
    BUSY_ELSEWHERE,
    PHONE_UNREACHABLE,
    Asked,
    asked_for,
    presence_move,
)
from agents.state import Move
from pbx.pjsip_agents import phone_password, render, sip_name

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
    text = render(["PJSIP/agent-1001", "Local/1002@sim-agent", "PJSIP/agent-1001"], b"k")
    assert text.count("[agent-1001]") == 3 and "1002" not in text
    assert f"password = {phone_password(b'k', 'agent-1001')}" in text
    assert phone_password(b"k", "agent-1001") != phone_password(b"other", "agent-1001")
    assert "context = hotline-agents" in text and "qualify_frequency" in text
    assert sip_name("PJSIP/agent-1001") == "agent-1001" and sip_name("SIP/x") is None

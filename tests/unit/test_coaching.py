"""Who may be listened to, and how: `quality.coaching`, over plain data."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load
from quality.coaching import (
    CallNow,
    ListenOn,
    Mode,
    PhoneRefused,
    Refused,
    check_phone,
    listen_in,
    secret_nodes,
)

CONFIG = load(Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml")
SECRETS = secret_nodes(CONFIG.menus)
WITH_AGENT = CallNow("c1", live=True, caller_channel="Local/10000@hotline-in-01;2",
                     queue_state="connected", agent_id="1001",
                     agent_leg="PJSIP/agent-1001-0000002a")


def test_the_examples_pin_and_card_nodes_are_secret() -> None:
    assert SECRETS and all(CONFIG.menus[n].kind == "collect" for n in SECRETS)
    assert not any(CONFIG.menus[n].kind == "choice" for n in SECRETS)


@pytest.mark.parametrize(("mode", "options"), [(Mode.LISTEN, "qES"), (Mode.WHISPER, "qESw"),
                                               (Mode.BARGE, "qESB")])
def test_with_an_agent_the_agents_leg_is_listened_to(mode: Mode, options: str) -> None:
    # A whisper into the agent's leg reaches the agent only.
    assert listen_in(WITH_AGENT, mode, SECRETS) == \
        ListenOn("PJSIP/agent-1001-0000002a", options, "1001")


def test_a_caller_typing_a_secret_is_never_listened_to() -> None:
    secret = next(iter(SECRETS))
    at_pin = CallNow("c2", live=True, caller_channel="Local/x;2", node=secret)
    muted = CallNow("c3", live=True, caller_channel="Local/x;2", node="main",
                    typing_secret=True)
    for call in (at_pin, muted):
        for mode in Mode:
            decision = listen_in(call, mode, SECRETS)
            assert isinstance(decision, Refused) and decision.reason == "secret"


def test_a_caller_without_an_agent_is_only_listened_to() -> None:
    in_menus = CallNow("c4", live=True, caller_channel="Local/x;2", node="main")
    in_line = CallNow("c5", live=True, caller_channel="Local/y;2", queue_state="waiting",
                      node=next(iter(SECRETS)))  # typed earlier; waiting now
    assert listen_in(in_menus, Mode.LISTEN, SECRETS) == ListenOn("Local/x;2", "qES")
    assert listen_in(in_line, Mode.LISTEN, SECRETS) == ListenOn("Local/y;2", "qES")
    refused = listen_in(in_line, Mode.BARGE, SECRETS)
    assert isinstance(refused, Refused) and refused.reason == "no_agent"


def test_a_call_that_ended_is_refused() -> None:
    for call in (CallNow("c6", live=False, caller_channel=""),
                 CallNow("c7", live=True, caller_channel="x", queue_state="ended")):
        decision = listen_in(call, Mode.LISTEN, SECRETS)
        assert isinstance(decision, Refused) and decision.reason == "over"


def test_a_supervisors_phone_is_a_sip_dial_string() -> None:
    assert check_phone("PJSIP/sup-1") == "PJSIP/sup-1"
    assert check_phone("PJSIP/trunk/sip:sup@127.0.0.1:5070")
    for bad in ("Local/9001@sim-supervisor", "PJSIP/sup-1\r\nAction: Originate",
                "PJSIP/a,b", "sup-1", ""):
        with pytest.raises(PhoneRefused):
            check_phone(bad)

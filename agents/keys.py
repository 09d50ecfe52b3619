"""Feature codes an agent dials from the softphone, and what each one asks for.

    *1   log in            *2   log out
    *3   ready             *4N  not ready, with reason digit N
    *5   end wrap-up now

Pure: the code in, the move (and reason) out, or why the code means nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from agents.state import Move

# Not-ready reasons the engine sets by itself; the agent's phone coming back undoes them.
PHONE_UNREACHABLE = "phone unreachable"
BUSY_ELSEWHERE = "busy on another call"
# A phone that refused the call for its codecs or encryption (SIP 488). Not cleared by
# the phone merely being idle: only by the phone registering again (it went away and came
# back, as a phone being fixed does), or by the agent's *3.
PHONE_REFUSED = "phone refused the call"
PRESENCE_REASONS = frozenset({PHONE_UNREACHABLE, BUSY_ELSEWHERE})
ENCRYPTION_WORDS = {"none": "", "sdes": " with SRTP (keys in the SDP, sdes)",
                    "dtls": " with SRTP keyed by DTLS"}


def phone_refused(codecs: Sequence[str], encryption: str) -> str:
    """The reason an agent is taken out when their phone refuses a call: what the hotline
    offered, which the phone takes none of, so the fix can be read off the desk or log."""
    offered = ", ".join(codecs) or "no codec"
    return (f"{PHONE_REFUSED}: it takes none of the codecs offered ({offered})"
            f"{ENCRYPTION_WORDS.get(encryption, '')}; fix the phone, then register it again")


def is_phone_refusal(reason: str) -> bool:
    return reason.startswith(PHONE_REFUSED)


BUSY = frozenset({"INUSE", "BUSY", "RINGINUSE"})

_SIMPLE = {"*1": Move.LOG_IN, "*2": Move.LOG_OUT, "*3": Move.GO_READY,
           "*5": Move.WRAP_UP_DONE}


@dataclass(frozen=True, slots=True)
class Asked:
    move: Move
    reason: str = ""


def asked_for(code: str, reasons: Mapping[str, str]) -> Asked | str:
    """The move a dialled feature code asks for, or, as text, why it asks for none."""
    if code in _SIMPLE:
        return Asked(_SIMPLE[code])
    if code.startswith("*4"):
        digit = code[2:]
        if digit in reasons:
            return Asked(Move.GO_NOT_READY, reasons[digit])
        listed = ", ".join(f"{d} {r}" for d, r in sorted(reasons.items()))
        return f"not ready needs a reason digit after *4 ({listed})"
    return f"{code} is not a feature code"


def presence_may_move(device_state: str) -> bool:
    """Whether `presence_move` can ask anything on this device state, whatever the
    agent's: a phone ringing, on hold or unknown says nothing, and costs no read."""
    return device_state in ("UNAVAILABLE", "INVALID", "NOT_INUSE") or device_state in BUSY


def presence_worth_a_read(device_state: str, known_ready: bool | None) -> bool:
    """Whether the agent's state is worth reading for `presence_move`: not for a phone
    ringing or on hold, and not for a phone going busy under an agent known not to be
    ready (on the call, wrapping up, away), since a busy phone moves only a ready agent.
    `known_ready`: what the engine last knew of the agent, None when it does not know."""
    if device_state in BUSY and known_ready is False:
        return False
    return presence_may_move(device_state)


def presence_move(device_state: str, agent_state: str, reason: str) -> Asked | None:
    """What the phone's device state says about a logged-in agent, if anything.

    A phone that is gone, or busy on a call the engine did not place, takes a ready
    agent out of the matching; when the phone is back and idle, the agent is ready again
    (only if it was the phone, not the agent, that made them not ready). A phone that
    refused a call and then goes away is being fixed: it counts as unreachable, so its
    coming back makes the agent ready."""
    if device_state in ("UNAVAILABLE", "INVALID"):
        if agent_state in ("ready", "wrap_up") or (agent_state == "not_ready" and (
                reason == BUSY_ELSEWHERE or is_phone_refusal(reason))):
            return Asked(Move.GO_NOT_READY, PHONE_UNREACHABLE)
        return None
    if device_state in BUSY and agent_state == "ready":
        return Asked(Move.GO_NOT_READY, BUSY_ELSEWHERE)
    if device_state == "NOT_INUSE" and agent_state == "not_ready" and reason in PRESENCE_REASONS:
        return Asked(Move.GO_READY)
    return None

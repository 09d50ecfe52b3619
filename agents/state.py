"""An agent's states and the moves between them. A move that cannot happen is refused
with the reason, so a stale event never puts an agent in a wrong state."""

from __future__ import annotations

from enum import StrEnum


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    NOT_READY = "not_ready"
    RESERVED = "reserved"  # chosen for a call, phone not yet ringing
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


class Move(StrEnum):
    LOG_IN = "log_in"
    LOG_OUT = "log_out"
    GO_READY = "go_ready"
    GO_NOT_READY = "go_not_ready"
    RESERVE = "reserve"
    RING = "ring"
    ANSWER = "answer"
    NO_ANSWER = "no_answer"  # RONA: not ready, reason "no answer"
    CALL_ENDED = "call_ended"
    WRAP_UP_DONE = "wrap_up_done"
    CANCEL_OFFER = "cancel_offer"  # the engine could not ring the phone: not the agent's fault
    # The phone could not take the call (busy, or refused it for codecs or encryption):
    # not ready, but with the phone's reason, never counted as the agent's no-answer.
    PHONE_TROUBLE = "phone_trouble"


S, M = AgentState, Move
_MOVES: dict[tuple[AgentState, Move], AgentState] = {
    (S.LOGGED_OUT, M.LOG_IN): S.NOT_READY,
    (S.NOT_READY, M.GO_READY): S.READY,
    (S.NOT_READY, M.GO_NOT_READY): S.NOT_READY,  # a new reason (the phone went away)
    (S.READY, M.GO_NOT_READY): S.NOT_READY,
    (S.READY, M.RESERVE): S.RESERVED,
    (S.RESERVED, M.RING): S.RINGING,
    (S.RESERVED, M.ANSWER): S.ON_CALL,
    (S.RINGING, M.ANSWER): S.ON_CALL,
    (S.RESERVED, M.NO_ANSWER): S.NOT_READY,
    (S.RESERVED, M.CANCEL_OFFER): S.READY,
    (S.RINGING, M.NO_ANSWER): S.NOT_READY,
    (S.RESERVED, M.PHONE_TROUBLE): S.NOT_READY,
    (S.RINGING, M.PHONE_TROUBLE): S.NOT_READY,
    (S.ON_CALL, M.CALL_ENDED): S.WRAP_UP,
    (S.WRAP_UP, M.WRAP_UP_DONE): S.READY,
    (S.WRAP_UP, M.GO_NOT_READY): S.NOT_READY,
}
for _state in (S.READY, S.NOT_READY, S.WRAP_UP):
    _MOVES[(_state, M.LOG_OUT)] = S.LOGGED_OUT


class MoveRefused(ValueError):
    pass


def move(current: AgentState, what: Move) -> AgentState:
    try:
        return _MOVES[(current, what)]
    except KeyError:
        raise MoveRefused(f"an agent who is {current.value.replace('_', ' ')} cannot "
                          f"{what.value.replace('_', ' ')}") from None

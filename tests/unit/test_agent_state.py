"""An agent's day, move by move: every move the engine or the agent can ask for, in every
state, is either the one allowed next state or refused in words a supervisor can read."""

from __future__ import annotations

import itertools

import pytest

from agents.state import AgentState, Move, MoveRefused, move

S, M = AgentState, Move

ALLOWED = {
    (S.LOGGED_OUT, M.LOG_IN): S.NOT_READY,
    (S.NOT_READY, M.GO_READY): S.READY,
    (S.NOT_READY, M.GO_NOT_READY): S.NOT_READY,
    (S.NOT_READY, M.LOG_OUT): S.LOGGED_OUT,
    (S.READY, M.GO_NOT_READY): S.NOT_READY,
    (S.READY, M.RESERVE): S.RESERVED,
    (S.READY, M.LOG_OUT): S.LOGGED_OUT,
    (S.RESERVED, M.RING): S.RINGING,
    (S.RESERVED, M.ANSWER): S.ON_CALL,
    (S.RESERVED, M.NO_ANSWER): S.NOT_READY,
    (S.RESERVED, M.CANCEL_OFFER): S.READY,
    (S.RINGING, M.ANSWER): S.ON_CALL,
    (S.RINGING, M.NO_ANSWER): S.NOT_READY,
    (S.RESERVED, M.PHONE_TROUBLE): S.NOT_READY,
    (S.RINGING, M.PHONE_TROUBLE): S.NOT_READY,
    (S.ON_CALL, M.CALL_ENDED): S.WRAP_UP,
    (S.WRAP_UP, M.WRAP_UP_DONE): S.READY,
    (S.WRAP_UP, M.GO_NOT_READY): S.NOT_READY,
    (S.WRAP_UP, M.LOG_OUT): S.LOGGED_OUT,
}


def test_each_move_in_each_state_is_allowed_or_refused() -> None:
    for state, what in itertools.product(S, M):
        if (state, what) in ALLOWED:
            assert move(state, what) is ALLOWED[(state, what)], (state, what)
        else:
            with pytest.raises(MoveRefused):
                move(state, what)


def test_a_day_at_the_desk() -> None:
    state = S.LOGGED_OUT
    for what, then in [(M.LOG_IN, S.NOT_READY), (M.GO_READY, S.READY), (M.RESERVE, S.RESERVED),
                       (M.RING, S.RINGING), (M.ANSWER, S.ON_CALL), (M.CALL_ENDED, S.WRAP_UP),
                       (M.WRAP_UP_DONE, S.READY), (M.LOG_OUT, S.LOGGED_OUT)]:
        state = move(state, what)
        assert state is then


def test_an_agent_on_a_call_cannot_be_offered_another_or_leave() -> None:
    for what in (M.RESERVE, M.RING, M.GO_READY, M.GO_NOT_READY, M.LOG_OUT, M.WRAP_UP_DONE):
        with pytest.raises(MoveRefused):
            move(S.ON_CALL, what)


def test_a_ring_nobody_answers_leaves_the_agent_not_ready_but_a_failed_ring_does_not() -> None:
    assert move(S.RINGING, M.NO_ANSWER) is S.NOT_READY
    assert move(S.RESERVED, M.CANCEL_OFFER) is S.READY  # the engine's fault, not the agent's


def test_a_refusal_says_who_and_what_in_words() -> None:
    for state, what, words in [
        (S.LOGGED_OUT, M.RESERVE, "an agent who is logged out cannot reserve"),
        (S.ON_CALL, M.GO_NOT_READY, "an agent who is on call cannot go not ready"),
        (S.WRAP_UP, M.CANCEL_OFFER, "an agent who is wrap up cannot cancel offer"),
        (S.NOT_READY, M.WRAP_UP_DONE, "an agent who is not ready cannot wrap up done"),
    ]:
        with pytest.raises(MoveRefused) as refused:
            move(state, what)
        assert str(refused.value) == words
        assert isinstance(refused.value, ValueError)
        assert refused.value.__cause__ is None and refused.value.__suppress_context__

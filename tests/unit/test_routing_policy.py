"""The queue rules a waiting caller lives by: when they leave the line, where they go,
when a supervisor is warned, and what follows a ring."""

from __future__ import annotations

from dataclasses import replace

from agents.keys import PHONE_UNREACHABLE, PRESENCE_REASONS, Asked, is_phone_refusal, presence_move
from agents.state import Move
from config.phones import Phone
from config.queues import MaxWait, Overflow, Queue, TierRule
from routing.policy import (
    NO_ANSWER_REASON,
    SETTLED,
    AfterMaxWait,
    AfterRing,
    Leave,
    RingEnd,
    after_max_wait,
    after_ring,
    announcement_due,
    call_back_when_cut_off,
    counted_as,
    freeing_move,
    is_ghost,
    menu_after,
    next_queue,
    reason_to_leave,
    starving,
    wrap_up_ends,
)

QUEUES = {"billing", "general", "vip", "complaints"}
MENUS = {"main", "goodbye", "leave_message"}


def queue(*, overflow: tuple[float, str] | None = None, max_wait: MaxWait | None = None,
          name: str = "Billing") -> Queue:
    return Queue(name=name, skills={"billing": 1}, max_wait=max_wait,
                 overflow=Overflow(after=overflow[0], to=overflow[1]) if overflow else None)


PATIENT = queue()
OVERFLOWING = queue(overflow=(60, "general"))
TO_GENERAL = queue(max_wait=MaxWait(after=120, then="queue", target="general"))
TO_MENU = queue(max_wait=MaxWait(after=120, then="menu", target="leave_message"))
CALLBACK = queue(max_wait=MaxWait(after=120, then="callback"), overflow=(300, "general"))
BOTH = queue(max_wait=MaxWait(after=90, then="voicemail"), overflow=(90, "general"))


def test_a_caller_stays_while_no_rule_is_reached() -> None:
    assert reason_to_leave(PATIENT, 10**6) is None
    assert reason_to_leave(OVERFLOWING, 59.9) is None
    assert reason_to_leave(TO_GENERAL, 119.9) is None


def test_the_maximum_wait_and_the_overflow_are_reached_at_their_second() -> None:
    assert reason_to_leave(OVERFLOWING, 60) is Leave.OVERFLOW
    assert reason_to_leave(OVERFLOWING, 600) is Leave.OVERFLOW
    assert reason_to_leave(TO_GENERAL, 120) is Leave.MAX_WAIT
    assert reason_to_leave(TO_GENERAL, 500) is Leave.MAX_WAIT


def test_the_maximum_wait_wins_over_an_overflow_due_at_the_same_time() -> None:
    assert reason_to_leave(BOTH, 90) is Leave.MAX_WAIT


def test_a_caller_who_declined_the_callback_waits_on_until_the_overflow() -> None:
    assert reason_to_leave(CALLBACK, 120) is Leave.MAX_WAIT
    assert reason_to_leave(CALLBACK, 200, declined_callback=True) is None
    assert reason_to_leave(CALLBACK, 300, declined_callback=True) is Leave.OVERFLOW
    assert reason_to_leave(OVERFLOWING, 30, declined_callback=True) is None


def test_a_queue_removed_by_a_new_version_lets_its_callers_go() -> None:
    assert reason_to_leave(None, 0) is Leave.QUEUE_REMOVED
    assert reason_to_leave(None, 0, declined_callback=True) is Leave.QUEUE_REMOVED
    assert after_max_wait(None) is AfterMaxWait.NOTHING


def test_what_the_maximum_wait_offers() -> None:
    assert after_max_wait(PATIENT) is AfterMaxWait.NOTHING
    assert after_max_wait(OVERFLOWING) is AfterMaxWait.NOTHING
    assert after_max_wait(TO_GENERAL) is AfterMaxWait.QUEUE
    assert after_max_wait(TO_MENU) is AfterMaxWait.MENU
    assert after_max_wait(CALLBACK) is AfterMaxWait.CALLBACK
    assert after_max_wait(BOTH) is AfterMaxWait.VOICEMAIL


def test_the_queue_a_caller_moves_to() -> None:
    assert next_queue("billing", OVERFLOWING, Leave.OVERFLOW, QUEUES) == "general"
    assert next_queue("billing", TO_GENERAL, Leave.MAX_WAIT, QUEUES) == "general"
    assert next_queue("billing", CALLBACK, Leave.OVERFLOW, QUEUES) == "general"
    # The maximum wait of a callback queue moves nobody to another queue, nor does an
    # overflow rule at the maximum wait, nor a maximum wait rule at an overflow.
    assert next_queue("billing", CALLBACK, Leave.MAX_WAIT, QUEUES) is None
    assert next_queue("billing", BOTH, Leave.MAX_WAIT, QUEUES) is None
    assert next_queue("billing", TO_GENERAL, Leave.OVERFLOW, QUEUES) is None
    assert next_queue("billing", TO_MENU, Leave.MAX_WAIT, QUEUES | {"leave_message"}) is None
    assert next_queue("billing", PATIENT, Leave.OVERFLOW, QUEUES) is None
    assert next_queue("billing", None, Leave.QUEUE_REMOVED, QUEUES) is None
    assert next_queue("billing", None, Leave.OVERFLOW, QUEUES) is None


def test_a_target_that_is_gone_or_the_same_queue_moves_nobody() -> None:
    assert next_queue("billing", OVERFLOWING, Leave.OVERFLOW, {"billing", "vip"}) is None
    assert next_queue("billing", TO_GENERAL, Leave.MAX_WAIT, {"billing"}) is None
    assert next_queue("general", OVERFLOWING, Leave.OVERFLOW, QUEUES) is None
    assert next_queue("general", TO_GENERAL, Leave.MAX_WAIT, QUEUES) is None


def test_the_menu_node_a_caller_goes_on_at() -> None:
    assert menu_after(TO_MENU, Leave.MAX_WAIT, None, MENUS) == "leave_message"
    assert menu_after(TO_MENU, Leave.MAX_WAIT, "main", MENUS) == "leave_message"
    assert menu_after(TO_MENU, Leave.MAX_WAIT, None, {"main"}) is None  # gone: a person
    assert menu_after(TO_GENERAL, Leave.MAX_WAIT, "main", MENUS) is None
    assert menu_after(CALLBACK, Leave.MAX_WAIT, "main", MENUS) is None
    assert menu_after(OVERFLOWING, Leave.OVERFLOW, "main", MENUS) is None
    assert menu_after(PATIENT, Leave.MAX_WAIT, "main", MENUS) is None


def test_a_removed_queue_sends_its_callers_to_the_fallback_they_joined_with() -> None:
    assert menu_after(None, Leave.QUEUE_REMOVED, "goodbye", MENUS) == "goodbye"
    assert menu_after(None, Leave.QUEUE_REMOVED, None, MENUS) is None
    assert menu_after(None, Leave.QUEUE_REMOVED, "no_such_node", MENUS) is None
    assert menu_after(TO_MENU, Leave.QUEUE_REMOVED, "goodbye", MENUS) == "goodbye"
    assert menu_after(None, Leave.MAX_WAIT, "goodbye", MENUS) is None


def test_which_figure_a_leaving_caller_counts_in() -> None:
    assert counted_as(Leave.OVERFLOW) == "overflowed"
    assert counted_as(Leave.MAX_WAIT) == "timed_out"
    assert counted_as(Leave.QUEUE_REMOVED) == "timed_out"


def test_a_supervisor_is_warned_at_four_fifths_of_the_guaranteed_wait() -> None:
    gold = TierRule(priority=200, max_wait=40)
    assert not starving(gold, 31.9)
    assert starving(gold, 32)
    assert starving(gold, 100)
    assert not starving(None, 10**6)  # no guarantee, no warning
    assert not starving(TierRule(priority=0, max_wait=300), 239)
    assert starving(TierRule(priority=0, max_wait=300), 240)


def test_the_place_in_line_is_announced_every_so_often() -> None:
    assert not announcement_due(100.0, 100.0, every=30.0)
    assert not announcement_due(100.0, 129.9, every=30.0)
    assert announcement_due(100.0, 130.0, every=30.0)
    assert announcement_due(100.0, 500.0, every=30.0)
    assert announcement_due(100.0, 110.0, every=10.0)


def test_an_answered_ring_puts_the_agent_on_the_call() -> None:
    assert after_ring("ANSWER") == AfterRing(RingEnd.ANSWERED, Move.ANSWER, "")
    assert after_ring("ANSWER").answered


def test_a_ring_the_agent_let_run_out_is_their_no_answer() -> None:
    for status in ("NOANSWER", "", "answer"):
        after = after_ring(status)
        assert after == AfterRing(RingEnd.NOT_ANSWERED, Move.NO_ANSWER, "no answer"), status
        assert not after.answered
    assert NO_ANSWER_REASON == "no answer"


def test_a_caller_hanging_up_during_the_ring_is_an_abandon_not_the_agent_s_fault() -> None:
    assert after_ring("CANCEL") == AfterRing(RingEnd.CALLER_HUNG_UP, Move.CANCEL_OFFER, "")


def test_a_busy_or_refusing_phone_is_the_phone_s_problem() -> None:
    busy = after_ring("BUSY")
    assert (busy.end, busy.agent_move) == (RingEnd.PHONE_BUSY, Move.PHONE_TROUBLE)
    # The reason presence clears once the phone is idle again.
    assert busy.reason in PRESENCE_REASONS
    gone = after_ring("CHANUNAVAIL")
    assert (gone.end, gone.agent_move) == (RingEnd.PHONE_UNREACHABLE, Move.PHONE_TROUBLE)
    assert gone.reason in PRESENCE_REASONS  # back when the phone registers again
    # A 488 is NOANSWER to Dial; the leg's hangup cause (58) tells it apart.
    for status, cause in (("CONGESTION", 0), ("NOANSWER", 58), ("NOANSWER", 88)):
        refused = after_ring(status, cause)
        assert (refused.end, refused.agent_move) == (RingEnd.PHONE_REFUSED,
                                                     Move.PHONE_TROUBLE), status
        assert "codecs" in refused.reason and refused.reason not in PRESENCE_REASONS
    assert after_ring("NOANSWER", 16).end is RingEnd.NOT_ANSWERED


def test_a_refusal_names_what_the_hotline_offered_and_clears_when_the_phone_comes_back(
        ) -> None:
    phone = Phone("tls", "sdes", ("g722", "ulaw"), "alert-info", "lan")
    reason = after_ring("NOANSWER", 58, phone).reason
    assert "(g722, ulaw)" in reason and "sdes" in reason and is_phone_refusal(reason)
    assert "SRTP" not in after_ring("NOANSWER", 58, replace(phone, encryption="none")).reason
    # Idle is not enough: the phone that refused is still the same phone.
    assert presence_move("NOT_INUSE", "not_ready", reason) is None
    # It goes away (unregistered, to be fixed) and comes back: ready again.
    gone = presence_move("UNAVAILABLE", "not_ready", reason)
    assert gone == Asked(Move.GO_NOT_READY, PHONE_UNREACHABLE)
    assert presence_move("NOT_INUSE", "not_ready", gone.reason) == Asked(Move.GO_READY)
    # An agent who chose not ready stays so, whatever the phone does.
    assert presence_move("UNAVAILABLE", "not_ready", "lunch") is None


def test_wrap_up_ends_after_the_agents_own_wrap_up_time() -> None:
    assert wrap_up_ends(1000.0, 15.0) == 1015.0
    assert wrap_up_ends(1000.0, None) == 1000.0  # an agent the version does not know
    assert wrap_up_ends(1000.0, 0.0) == 1000.0


def test_a_ghost_is_a_channel_asterisk_no_longer_has_since_before_the_read() -> None:
    live = {"PJSIP/trunk-1"}
    assert is_ghost("PJSIP/trunk-9", 90.0, live, read_at=100.0)
    assert not is_ghost("PJSIP/trunk-1", 90.0, live, read_at=100.0)  # still there
    assert not is_ghost("", 0.0, live, read_at=100.0)  # kept in line for a callback
    # Joined after Asterisk's list was read, or just before: left for the next check.
    assert not is_ghost("PJSIP/trunk-9", 100.0 - SETTLED, live, read_at=100.0)
    assert is_ghost("PJSIP/trunk-9", 100.0 - SETTLED - 0.01, live, read_at=100.0)


def test_an_agent_busy_with_a_call_that_is_gone_is_freed_by_its_own_move() -> None:
    assert freeing_move("reserved") is Move.CANCEL_OFFER
    assert freeing_move("on_call") is Move.CALL_ENDED
    for state in ("ready", "not_ready", "wrap_up", "logged_out", ""):
        assert freeing_move(state) is None


def test_a_caller_cut_off_by_asterisk_is_called_back_only_with_a_number_to_call() -> None:
    for number in ("13700000002", "+8613700000002", "10086"):
        assert call_back_when_cut_off(number)
    for number in ("", "anonymous", "12", "1370000000213700000002", "137-0000"):
        assert not call_back_when_cut_off(number)

"""The queue rules a waiting caller lives by: when they leave a line and where they go,
when a supervisor is warned, and what follows a ring that ended. Pure: the rules of the
live config, the time waited and what Asterisk said go in; a decision comes out.

The engine runs these on the wall clock; a simulator can run the very same functions in
virtual time. Who is served first and by whom is `routing.decide`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from agents.keys import BUSY_ELSEWHERE, PHONE_UNREACHABLE, phone_refused
from agents.state import Move
from config.phones import Phone
from config.queues import Queue, TierRule

# Past this share of the tier's guaranteed wait, a caller nobody takes is a warning.
STARVATION_SHARE = 0.8
# Why an agent is made not ready after a ring nobody answered (RONA).
NO_ANSWER_REASON = "no answer"


class Leave(StrEnum):
    """Why a caller stops waiting in their line."""

    QUEUE_REMOVED = "queue removed"  # a new config version has no such queue
    MAX_WAIT = "max wait"
    OVERFLOW = "overflow"


class AfterMaxWait(StrEnum):
    """What the queue's `max_wait.then` offers a caller who waited that long."""

    CALLBACK = "callback"  # hang up and be called back, keeping the place in line
    VOICEMAIL = "voicemail"  # leave a spoken message
    QUEUE = "queue"  # move on to another queue
    MENU = "menu"  # go on at a menu node
    NOTHING = ""  # the queue has no maximum wait


def reason_to_leave(rules: Queue | None, waited: float, *,
                    declined_callback: bool = False) -> Leave | None:
    """Why a caller who has waited `waited` seconds leaves the queue now, if they do.
    A caller who declined the callback offer at the maximum wait waits on past it, but
    an overflow still moves them."""
    if rules is None:
        return Leave.QUEUE_REMOVED
    if rules.max_wait is not None and waited >= rules.max_wait.after \
            and not declined_callback:
        return Leave.MAX_WAIT
    if rules.overflow is not None and waited >= rules.overflow.after:
        return Leave.OVERFLOW
    return None


def after_max_wait(rules: Queue | None) -> AfterMaxWait:
    if rules is None or rules.max_wait is None:
        return AfterMaxWait.NOTHING
    return AfterMaxWait(rules.max_wait.then)


def next_queue(current: str, rules: Queue | None, why: Leave,
               queues: Collection[str]) -> str | None:
    """The queue the rule moves the caller to (keeping their arrival time), or None
    when they leave the queues: a target that does not exist, or is the same queue,
    moves nobody."""
    target = None
    if rules is not None and why is Leave.OVERFLOW and rules.overflow is not None:
        target = rules.overflow.to
    elif after_max_wait(rules) is AfterMaxWait.QUEUE and why is Leave.MAX_WAIT:
        assert rules is not None and rules.max_wait is not None
        target = rules.max_wait.target
    return target if target is not None and target in queues and target != current else None


def menu_after(rules: Queue | None, why: Leave, declared_fallback: str | None,
               menus: Collection[str]) -> str | None:
    """The menu node a caller leaving the queues goes on at, if the rules name one that
    exists; otherwise they go to a person. A removed queue sends its callers to the
    fallback it declared when they joined."""
    if why is Leave.QUEUE_REMOVED:
        node = declared_fallback
    elif after_max_wait(rules) is AfterMaxWait.MENU:
        assert rules is not None and rules.max_wait is not None
        node = rules.max_wait.target
    else:
        node = None
    return node if node is not None and node in menus else None


def counted_as(why: Leave) -> str:
    """The queue statistic a caller leaving by `why` counts in."""
    return "overflowed" if why is Leave.OVERFLOW else "timed_out"


def starving(rule: TierRule | None, waited: float) -> bool:
    """Close to the tier's guaranteed wait and still waiting: warned before the promise
    is broken, so a supervisor can move agents in time."""
    return rule is not None and waited >= STARVATION_SHARE * rule.max_wait


def starvation_warning(call_id: str, tier: str, waited: float, queue: str,
                       guaranteed: float) -> str:
    """The warning's words, the same in the engine's log and in a simulated day."""
    return (f"starvation: call {call_id} ({tier}) has waited {waited:.0f}s in {queue} of the "
            f"{tier} tier's guaranteed {guaranteed:.0f}s, and no agent has taken it")


def announcement_due(last_announced: float, now: float, every: float) -> bool:
    return now - last_announced >= every


class RingEnd(StrEnum):
    """How the ring at an agent's phone ended, in the caller's and agent's terms."""

    ANSWERED = "answered"
    NOT_ANSWERED = "not answered"  # RONA: the agent let it ring
    CALLER_HUNG_UP = "caller hung up"  # an abandon while the phone rang
    PHONE_BUSY = "phone busy"  # the phone is on another call (486)
    PHONE_UNREACHABLE = "phone unreachable"  # not registered, or not answering at all
    PHONE_REFUSED = "phone refused"  # refused for codecs or encryption (488)


@dataclass(frozen=True, slots=True)
class AfterRing:
    """What follows the end of a ring at an agent's phone."""

    end: RingEnd
    agent_move: Move
    reason: str = ""

    @property
    def answered(self) -> bool:
        return self.end is RingEnd.ANSWERED


# Hangup causes of an agent's leg that say the phone refused the call rather than let
# it ring: bearer capability not available (SIP 488), bearer service not implemented,
# service not implemented, incompatible destination.
REFUSAL_CAUSES = frozenset({58, 65, 79, 88})


def after_ring(dial_status: str, cause: int = 0, phone: Phone | None = None) -> AfterRing:
    """Asterisk's DialStatus (and the hangup cause of the agent's leg), as what happens
    to the agent (`phone`: the agent's phone settings, which a refusal's reason names).

    Answered: on the call. A ring the agent let run out (RONA): not ready, "no answer".
    The caller hanging up first is an abandon: the agent did nothing wrong and is ready
    again. A busy or unreachable phone takes the agent out until the phone is idle or
    back again (presence brings them back); a phone that refuses calls for codecs or
    encryption keeps them out with the phone's reason until it is fixed. In every case
    but the abandon, the caller goes back to the head of the line (their arrival time
    is kept) when the dialplan returns them to the engine.
    """
    if dial_status == "ANSWER":
        return AfterRing(RingEnd.ANSWERED, Move.ANSWER)
    if dial_status == "CANCEL":
        return AfterRing(RingEnd.CALLER_HUNG_UP, Move.CANCEL_OFFER)
    if dial_status == "BUSY":
        return AfterRing(RingEnd.PHONE_BUSY, Move.PHONE_TROUBLE, BUSY_ELSEWHERE)
    if cause in REFUSAL_CAUSES or dial_status == "CONGESTION":
        return AfterRing(RingEnd.PHONE_REFUSED, Move.PHONE_TROUBLE,
                         phone_refused(phone.codecs, phone.encryption) if phone
                         else phone_refused((), "none"))
    if dial_status == "CHANUNAVAIL":
        return AfterRing(RingEnd.PHONE_UNREACHABLE, Move.PHONE_TROUBLE, PHONE_UNREACHABLE)
    return AfterRing(RingEnd.NOT_ANSWERED, Move.NO_ANSWER, NO_ANSWER_REASON)


def wrap_up_ends(call_ended_at: float, wrap_up: float | None) -> float:
    """When an agent's wrap-up after a call is over (an unknown agent gets none)."""
    return call_ended_at + (wrap_up or 0.0)


# Reconciliation leaves alone what changed this recently: a caller who joined, or an
# agent reserved, after Asterisk's channel list was read.
SETTLED = 5.0


def call_back_when_cut_off(number: str) -> bool:
    """Whether a waiting caller whom Asterisk cut off (shutting down for a restart) keeps
    their place, to be called back when an agent is free: when there is a number to call.
    A withheld or garbled number cannot be called, and the caller counts as abandoned."""
    return 3 <= len(number) <= 20 and number.lstrip("+").isdigit()


def is_ghost(channel: str, since: float, live: Collection[str], read_at: float) -> bool:
    """A waiting caller or a call an agent is busy with whose channel Asterisk no longer
    has (it hung up while no engine heard it). A caller kept in line for a callback has
    no channel and is never one."""
    return bool(channel) and channel not in live and since < read_at - SETTLED


def freeing_move(agent_state: str) -> Move | None:
    """How an agent busy with a call that no longer exists is freed: an offer is
    withdrawn (ready again), a conversation ends (wrap-up, then ready)."""
    if agent_state == "reserved":
        return Move.CANCEL_OFFER
    if agent_state == "on_call":
        return Move.CALL_ENDED
    return None

"""A caller waiting for a person: hold music, their place in line, and the queue's
rules (`routing.policy`) read from the live config each second, until an agent is rung
for them or a rule sends them elsewhere.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from config.model import HotlineConfig
from hotline.queues.matching import Matcher
from hotline.queues.reporting import QueueReporting
from hotline.queues.stats import QueueStats
from pbx.ports import Call, CallControl, CallGone
from routing.decide import WaitingCall, line_order
from routing.policy import (
    AfterMaxWait,
    Leave,
    after_max_wait,
    announcement_due,
    call_back_when_cut_off,
    menu_after,
    next_queue,
    reason_to_leave,
    starvation_warning,
    starving,
)
from routing.stats import expected_wait
from routing.store import RoutingStore

log = logging.getLogger(__name__)

# Hold is played in one-second pieces so that a new config version, an overflow or the
# end of the maximum wait is acted on within a second.
ANNOUNCEMENT = "queue-periodic-announce"
HOLD_PIECE = 1.0  # seconds

# Says a waiting caller's place in line and expected wait (seconds), each None when the
# queue does not announce it; the menu side knows the caller's language and prompts.
Announcer = Callable[[CallControl, int | None, float | None], Awaitable[None]]
# Offers a caller at the maximum wait to be called back, keeping their place; True when
# they took it (and heard it confirmed).
CallbackOffer = Callable[[CallControl], Awaitable[bool]]
# Takes a spoken message from a caller at the maximum wait (`then: voicemail`); returns
# where it was kept, or None when none could be taken.
MessageTaker = Callable[[CallControl, str], Awaitable[str | None]]


class WaitEnd(StrEnum):
    """How a caller's wait in the queues ended."""

    CONNECTING = "connecting"  # an agent's phone is ringing for them (or answered)
    PERSON = "person"  # to the fallback person: no rule says where else
    MENU = "menu"  # back to the menus, at `WaitOutcome.node`
    CALLBACK = "callback"  # hung up to be called back, keeping their place in line
    MESSAGE = "message"  # left a spoken message, kept at `WaitOutcome.reason`
    GONE = "gone"  # hung up while waiting (an abandon)


@dataclass(frozen=True, slots=True)
class WaitOutcome:
    end: WaitEnd
    reason: str = ""
    node: str = ""


@dataclass(frozen=True, slots=True)
class WaitOffers:
    """What a caller can be offered at the maximum wait, in their language."""

    announce: Announcer | None = None
    offer_callback: CallbackOffer | None = None
    take_message: MessageTaker | None = None


class Waiting:
    def __init__(self, store: RoutingStore, matcher: Matcher, report: QueueReporting,
                 stats: QueueStats | None, config: Callable[[], HotlineConfig],
                 clock: Callable[[], float]) -> None:
        self.store = store
        self.matcher = matcher
        self.report = report
        self.stats = stats
        self.config = config
        self.clock = clock

    async def wait(self, line: CallControl, queue: str, *, tier: str, boost: int,
                   arrived_at: float | None = None, menu_path: str | None = None,
                   offers: WaitOffers = WaitOffers()) -> WaitOutcome:
        """Hold the caller in `queue` until an agent is being rung for them, or the
        queue's rules send them elsewhere. Returns how the wait ended."""
        call = line.call
        arrived = arrived_at if arrived_at is not None else self.clock()
        # The rules the caller joined under: if a new version removes the queue, its
        # declared fallback still says where the caller goes.
        declared_fallback = getattr(self.config().queues.get(queue), "fallback", None)
        # The first announcement comes after the interval: one plays for seconds, and
        # nothing else (overflow, a warning) happens while it does.
        last_announced = self.clock()
        warned = declined = False  # declined: the callback offer, waits on past max wait
        self.matcher.here[call.call_id] = {"channel": call.channel,
                                           "number": call.caller_number,
                                           "menu_path": menu_path or ""}
        joined = await self.matcher.join(
            self.config(), WaitingCall(call.call_id, queue, arrived, tier, boost),
            call.channel, call.caller_number, menu_path)
        if arrived_at is None:  # a first entry, not a caller back from a missed ring
            await self.report.entered(call, queue, tier, joined.place)
        try:
            while True:
                # Only this loop moves its caller between queues (`_follow_rule`), so the
                # queue is known here without a read each second.
                config = self.config()
                rules = config.queues.get(queue)
                why = reason_to_leave(rules, self.clock() - arrived,
                                      declined_callback=declined)
                if why is Leave.MAX_WAIT:
                    then = after_max_wait(rules)
                    if then is AfterMaxWait.CALLBACK and offers.offer_callback is not None:
                        if await offers.offer_callback(line):
                            return await self._kept_for_callback(line, queue)
                        declined = True
                        continue
                    if then is AfterMaxWait.VOICEMAIL and offers.take_message is not None:
                        return await self._message(line, queue, tier, why, offers.take_message)
                if why is not None:
                    moved = await self._follow_rule(call, queue, tier, why)
                    if moved is None:
                        await self.store.leave(call.call_id, queue)
                        node = menu_after(rules, why, declared_fallback, config.menus)
                        return WaitOutcome(WaitEnd.MENU, why, node) if node else \
                            WaitOutcome(WaitEnd.PERSON, why)
                    queue = moved
                    continue
                assert rules is not None
                declared_fallback = rules.fallback or declared_fallback
                tier_rule = config.vip.tiers.get(tier)  # type: ignore[call-overload]
                if not warned and starving(tier_rule, self.clock() - arrived):
                    warned = True
                    log.warning("%s", starvation_warning(
                        call.call_id, tier, self.clock() - arrived, queue, tier_rule.max_wait))
                    await self.report.starving(queue, tier)
                if announcement_due(last_announced, self.clock(), rules.announce.every):
                    last_announced = self.clock()
                    await self._announce(line, queue, offers.announce)
                else:
                    await line.hold(rules.hold_music, HOLD_PIECE)
        except CallGone as gone:
            state = (await self.store.call(call.call_id)).get("state")
            if state in ("offered", "connected"):
                # Our Redirect took the caller out of AGI; the agent may have answered
                # before this line runs.
                return WaitOutcome(WaitEnd.CONNECTING)
            if gone.asterisk_shut_down and call_back_when_cut_off(call.caller_number):
                await self.store.keep_for_callback(call.call_id, call.caller_number)
                log.warning("call %s was cut off by Asterisk shutting down: it keeps its "
                            "place in %s and is called back", call.call_id, queue)
                return WaitOutcome(WaitEnd.CALLBACK, f"{gone}: called back when an agent "
                                   "is free")
            await self.store.leave(call.call_id, queue)
            await self.report.abandoned(call.call_id, queue, tier, arrived)
            return WaitOutcome(WaitEnd.GONE)
        finally:
            self.matcher.here.pop(call.call_id, None)

    async def _kept_for_callback(self, line: CallControl, queue: str) -> WaitOutcome:
        call = line.call
        await self.store.keep_for_callback(call.call_id, call.caller_number)
        log.info("call %s keeps its place in %s for a callback", call.call_id, queue)
        await line.hang_up()
        return WaitOutcome(WaitEnd.CALLBACK, "called back when an agent is free")

    async def _message(self, line: CallControl, queue: str, tier: str, why: Leave,
                       take_message: MessageTaker) -> WaitOutcome:
        await self.store.leave(line.call.call_id, queue)
        await self.report.left(line.call.call_id, queue, tier, why)
        kept = await take_message(line, queue)
        if kept is None:
            return WaitOutcome(WaitEnd.PERSON, "no message could be taken")
        with contextlib.suppress(CallGone):
            await line.hang_up()
        return WaitOutcome(WaitEnd.MESSAGE, kept)

    async def _announce(self, line: CallControl, queue: str,
                        announce: Announcer | None) -> None:
        rules = self.config().queues[queue].announce
        if announce is None or not (rules.position or rules.expected_wait):
            await line.play(ANNOUNCEMENT)
            return
        position, expected = await self.place_in_line(line.call.call_id, queue)
        await announce(line, position if rules.position else None,
                       expected if rules.expected_wait else None)

    async def _follow_rule(self, call: Call, queue: str, tier: str, why: Leave) -> str | None:
        """The queue a rule moves the caller to, or None when they leave the queues."""
        config = self.config()
        await self.report.left(call.call_id, queue, tier, why)
        target = next_queue(queue, config.queues.get(queue), why, config.queues)
        if target is None:
            log.info("call %s leaves queue %s (%s)", call.call_id, queue, why)
            return None
        log.info("call %s moves from queue %s to %s (%s)", call.call_id, queue, target, why)
        await self.store.move_to_queue(call.call_id, queue, target)
        self.matcher.wake()
        await self.report.entered(call, target, tier)
        return target

    async def place_in_line(self, call_id: str, queue: str) -> tuple[int, float]:
        """The caller's position (1 = next) and expected wait in seconds: the callers
        ahead, served at the recent handle time by the agents logged in to serve it."""
        config = self.config()
        rules = config.queues[queue]
        position = await self.position(call_id, queue)
        able = [a for a, agent in config.agents.items()
                if all(agent.skills.get(s, 0) >= 1 for s in rules.skills)]
        states = await self.store.agents_in(able)
        serving = sum(1 for f in states.values() if f.get("state", "logged_out") not in
                      ("logged_out", "not_ready"))
        recent = await self.stats.recent_handle_times(queue) if self.stats else []
        return position, expected_wait(position, recent, serving)

    async def position(self, call_id: str, queue: str) -> int:
        """Where the caller is in line (1 = next), in the order the matcher serves."""
        calls = line_order(await self.store.waiting(queue), self.config().vip, self.clock())
        return next((n for n, c in enumerate(calls, 1) if c.call_id == call_id), len(calls))

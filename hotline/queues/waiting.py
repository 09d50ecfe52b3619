"""Callers waiting for a person, and the matching that connects them to agents.

Decisions come from `routing.decide` over the live config read at each round, so a
new version's relaxation and priority rules apply to callers already waiting. Pairing
an agent with a call is one Redis script (`RoutingStore.reserve`), so two engine
instances never give one agent two calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from agents.state import Move, MoveRefused
from config.model import HotlineConfig
from config.queues import Queue
from hotline.queues.callback_in_line import CallbackInLine
from hotline.queues.connecting import Connector
from hotline.queues.reporting import QueueReporting
from hotline.queues.stats import QueueStats
from pbx.ami import AmiConnection
from pbx.originate import AmiOriginator
from pbx.ports import Call, CallControl, CallGone
from quality.sampling import ServedCall
from routing.decide import FreeAgents, WaitingCall, line_order
from routing.stats import expected_wait
from routing.store import Reserved, RoutingStore

log = logging.getLogger(__name__)

# Hold is played in one-second pieces so that a new config version, an overflow or the
# end of the maximum wait is acted on within a second.
ANNOUNCEMENT = "queue-periodic-announce"
HOLD_PIECE = 1.0  # seconds
# Past this share of the tier's guaranteed wait, a caller nobody can take is a warning.
STARVATION_SHARE = 0.8


# Says a waiting caller's place in line and expected wait (seconds), each None when the
# queue does not announce it; the menu side knows the caller's language and prompts.
Announcer = Callable[[CallControl, int | None, float | None], Awaitable[None]]
# Offers a caller at the maximum wait to be called back, keeping their place; True when
# they took it (and heard it confirmed).
CallbackOffer = Callable[[CallControl], Awaitable[bool]]
# Takes a spoken message from a caller at the maximum wait (`then: voicemail`); returns
# where it was kept, or None when none could be taken.
MessageTaker = Callable[[CallControl, str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class WaitOutcome:
    kind: str  # "connecting", "person", "menu" (go on at `node`), "gone"
    reason: str = ""
    node: str = ""


class Queues:
    def __init__(self, ami: AmiConnection, store: RoutingStore,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 tick: float = 1.0,
                 on_served: Callable[[ServedCall], Awaitable[None]] | None = None,
                 stats: QueueStats | None = None,
                 dial_strings_set: Callable[[], bool] = lambda: False) -> None:
        self.stats = stats
        self.report = QueueReporting(stats, store, config, clock)
        self.callbacks_in_line = CallbackInLine(AmiOriginator(ami), store, clock, self.wake)
        self.connector = Connector(ami, store, self.report, self.callbacks_in_line, clock,
                                   self.wake, dial_strings_set, self._spawn)
        # Called when an agent-served call ends (the satisfaction sample starts there).
        self.on_served = on_served
        self.ami = ami
        self.store = store
        self.config = config
        self.clock = clock
        self.tick = tick
        self._wake = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._matcher: asyncio.Task[None] | None = None
        self._stopping = False
        # What the connect needs of callers waiting in this process, so connecting them
        # costs no read from Redis: call id -> channel, number, menu path.
        self._here: dict[str, dict[str, str]] = {}

    def start(self) -> None:
        self._stopping = False
        self._matcher = asyncio.ensure_future(self._match_forever())

    async def stop(self) -> None:
        # A flag, then cancel: the matcher must end even if a cancellation is lost in a
        # race with a timeout (Python 3.11's asyncio can lose one).
        self._stopping = True
        self._wake.set()
        tasks = [t for t in [self._matcher, *self._tasks] if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    def wake(self) -> None:
        self._wake.set()

    # --- a caller waiting -----------------------------------------------------------

    async def wait(self, line: CallControl, queue: str, *, tier: str, boost: int,
                   arrived_at: float | None = None, menu_path: str | None = None,
                   announce: Announcer | None = None,
                   offer_callback: CallbackOffer | None = None,
                   take_message: MessageTaker | None = None) -> WaitOutcome:
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
        warned = stayed = False  # stayed: declined a callback, waits on past max wait
        self._here[call.call_id] = {"channel": call.channel, "number": call.caller_number,
                                    "menu_path": menu_path or ""}
        await self.store.join(WaitingCall(call.call_id, queue, arrived, tier, boost),
                              call.channel, call.caller_number, menu_path)
        self.wake()
        if arrived_at is None:  # a first entry, not a caller back from a missed ring
            await self.report.entered(call, queue, tier)
        try:
            while True:
                queue = (await self.store.call(call.call_id)).get("queue", queue)
                exit_now = self._rules_say_leave(queue, arrived, stayed)
                if exit_now == "max wait" and offer_callback is not None and \
                        self._then(queue) == "callback":
                    if await offer_callback(line):
                        await self.store.keep_for_callback(call.call_id, call.caller_number)
                        log.info("call %s keeps its place in %s for a callback", call.call_id,
                                 queue)
                        await line.hang_up()
                        return WaitOutcome("callback", "called back when an agent is free")
                    stayed = True
                    continue
                if exit_now == "max wait" and take_message is not None and \
                        self._then(queue) == "voicemail":
                    await self.store.leave(call.call_id, queue)
                    await self.report.left(call.call_id, queue, tier, exit_now)
                    kept = await take_message(line, queue)
                    if kept is not None:
                        with contextlib.suppress(CallGone):
                            await line.hang_up()
                        return WaitOutcome("message", kept)
                    return WaitOutcome("person", "no message could be taken")
                if exit_now is not None:
                    moved = await self._follow_rule(call, queue, exit_now)
                    if moved is None:
                        await self.store.leave(call.call_id, queue)
                        node = self._menu_after(queue, exit_now, declared_fallback)
                        return WaitOutcome("menu", exit_now, node) if node else \
                            WaitOutcome("person", exit_now)
                    queue = moved
                    continue
                rules = self.config().queues[queue]
                declared_fallback = rules.fallback or declared_fallback
                if not warned and self._starving(call.call_id, queue, tier, arrived):
                    warned = True
                    await self.report.starving(queue, tier)
                if self.clock() - last_announced >= rules.announce.every:
                    last_announced = self.clock()
                    if announce is not None and (rules.announce.position
                                                 or rules.announce.expected_wait):
                        position, expected = await self.place_in_line(call.call_id, queue)
                        await announce(line, position if rules.announce.position else None,
                                       expected if rules.announce.expected_wait else None)
                    else:
                        await line.play(ANNOUNCEMENT)
                else:
                    await line.hold(rules.hold_music, HOLD_PIECE)
        except CallGone:
            state = (await self.store.call(call.call_id)).get("state")
            if state in ("offered", "connected"):
                # Our Redirect took the caller out of AGI; the agent may have answered
                # before this line runs.
                return WaitOutcome("connecting")
            await self.store.leave(call.call_id, queue)
            await self.report.abandoned(call.call_id, queue, tier, arrived)
            return WaitOutcome("gone")
        finally:
            self._here.pop(call.call_id, None)

    def _starving(self, call_id: str, queue: str, tier: str, arrived: float) -> bool:
        """Close to the tier's guaranteed wait and still waiting: warned before the
        promise is broken, so a supervisor can move agents in time."""
        rule = self.config().vip.tiers.get(tier)  # type: ignore[call-overload]
        waited = self.clock() - arrived
        if rule is None or waited < STARVATION_SHARE * rule.max_wait:
            return False
        log.warning("starvation: call %s (%s) has waited %.0fs in %s of the %s tier's "
                    "guaranteed %.0fs, and no agent has taken it", call_id, tier, waited,
                    queue, tier, rule.max_wait)
        return True

    def _then(self, queue: str) -> str:
        rules = self.config().queues.get(queue)
        return rules.max_wait.then if rules is not None and rules.max_wait else ""

    def _rules_say_leave(self, queue: str, arrived: float, stayed: bool = False) -> str | None:
        config = self.config()
        rules = config.queues.get(queue)
        if rules is None:
            return "queue removed"
        waited = self.clock() - arrived
        if rules.max_wait is not None and waited >= rules.max_wait.after and not stayed:
            return "max wait"
        if rules.overflow is not None and waited >= rules.overflow.after:
            return "overflow"
        return None

    def _menu_after(self, queue: str, why: str, declared_fallback: str | None) -> str | None:
        """The menu node a caller leaving the queues goes on at, if the rules name one."""
        config = self.config()
        rules = config.queues.get(queue)
        if why == "queue removed":
            node = declared_fallback
        elif rules is not None and rules.max_wait is not None and \
                rules.max_wait.then == "menu":
            node = rules.max_wait.target
        else:
            node = None
        return node if node in config.menus else None

    async def _follow_rule(self, call: Call, queue: str, why: str) -> str | None:
        """The queue a rule moves the caller to, or None when they leave the queues."""
        rules = self.config().queues.get(queue)
        target = None
        if why == "overflow" and rules is not None and rules.overflow is not None:
            target = rules.overflow.to
        elif why == "max wait" and rules is not None and rules.max_wait is not None \
                and rules.max_wait.then == "queue":
            target = rules.max_wait.target
        tier = (await self.store.call(call.call_id)).get("tier", "normal")
        await self.report.left(call.call_id, queue, tier, why)
        if target is None or target not in self.config().queues or target == queue:
            log.info("call %s leaves queue %s (%s)", call.call_id, queue, why)
            return None
        log.info("call %s moves from queue %s to %s (%s)", call.call_id, queue, target, why)
        await self.store.move_to_queue(call.call_id, queue, target)
        self.wake()
        await self.report.entered(call, target, tier)
        return target

    # --- matching -------------------------------------------------------------------

    async def _match_forever(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.tick):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.match_round()
            except Exception:
                log.exception("matching round failed; trying again next round")

    async def match_round(self) -> int:
        """Pair free agents with waiting callers, best first; returns the pairs made."""
        config, now = self.config(), self.clock()
        # The ready agents this version knows, indexed by skill, and the lines of the
        # queues one of them could serve (a queue nobody free fits even after every relax
        # step has no caller to pair now). The store keeps the agents between rounds and
        # reads only what changed in Redis's ready set since, with the lines, at once.
        free, lines = await self.store.match_reads(config.agents, config.queues)
        made = 0
        # One line across the queues: a diamond in one queue goes before a normal
        # caller in another when one agent could serve both.
        everyone = line_order([c for calls in lines.values() for c in calls], config.vip, now)
        for call in everyone:
            if not free:
                break
            agent_id = await self._reserve_best(config.queues[call.queue], call, now, free)
            if agent_id is not None:
                made += 1
                here = self._here.get(call.call_id)
                if here is not None:  # on the line in this process: rung right now
                    self.connector.ring_now(config, call, agent_id, here)
                else:
                    self._spawn(self.connector.connect(config, call, agent_id))
        return made

    async def _reserve_best(self, rules: Queue, call: WaitingCall, now: float,
                            free: FreeAgents) -> str | None:
        """Reserve the best free agent for `call`; the agent leaves `free` either way
        (reserved now, or no longer ready: another instance was first)."""
        while (chosen := free.pick(rules, now - call.arrived_at)) is not None:
            outcome = await self.store.reserve(chosen.agent_id, call, now)
            if outcome is Reserved.CALL_NOT_WAITING:
                return None
            free.remove(chosen.agent_id)
            if outcome is Reserved.YES:
                return chosen.agent_id
        return None

    # --- outcomes from AMI ----------------------------------------------------------

    async def dial_ended(self, call_id: str, status: str) -> None:
        fields = await self.store.call(call_id)
        agent_id = fields.get("agent")
        if fields.get("state") != "offered" or not agent_id:
            return
        now = self.clock()
        if status == "ANSWER":
            # Every engine instance sees this event; the one that moves the call on
            # does the rest.
            if not await self.store.advance_call(call_id, "offered", "connected"):
                return
            with contextlib.suppress(MoveRefused):
                await self.store.apply(agent_id, Move.ANSWER, now, call_id=call_id)
            await self.report.answered(call_id, fields, agent_id, now)
            return
        # Ring, no answer (RONA): the agent is set not ready, the caller goes back to
        # the head of the line (arrival time kept) when the dialplan returns it to AGI.
        try:
            await self.store.apply(agent_id, Move.NO_ANSWER, now, reason="no answer",
                                   call_id=call_id)
        except MoveRefused:
            return
        log.info("agent %s did not answer call %s (%s): not ready", agent_id, call_id, status)
        await self.report.unanswered(call_id, fields.get("queue", ""), agent_id, now)

    async def call_ended(self, call_id: str) -> None:
        fields = await self.store.call(call_id)
        agent_id = fields.get("agent")
        if fields.get("state") != "connected" or not agent_id or \
                not await self.store.advance_call(call_id, "connected", "ended"):
            return
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.CALL_ENDED, self.clock(), call_id=call_id)
        await self.report.completed(call_id, fields, agent_id)
        wrap_up = self.config().agents.get(agent_id)
        self._spawn(self._end_wrap_up(agent_id, wrap_up.wrap_up if wrap_up else 0.0, call_id))
        if self.on_served is not None:
            await self.on_served(ServedCall(call_id, fields.get("number", ""),
                                            fields.get("queue", ""), agent_id, self.clock()))

    async def _end_wrap_up(self, agent_id: str, seconds: float, call_id: str) -> None:
        await asyncio.sleep(seconds)
        # Only the wrap-up of this call: the agent may have ended it early (*5) and be
        # wrapping up another call by now.
        with contextlib.suppress(MoveRefused):
            await self.store.apply(agent_id, Move.WRAP_UP_DONE, self.clock(), call_id=call_id)
        self.wake()

    async def returned(self, call_id: str) -> WaitingCall | None:
        """A caller back in AGI after an unanswered offer: where they were in line
        (`wait` with their arrival time puts them back there)."""
        fields = await self.store.call(call_id)
        if fields.get("state") != "offered":
            return None
        return WaitingCall(call_id, fields["queue"], float(fields["arrived_at"]),
                           fields.get("tier", "normal"), int(fields.get("boost", 0)))

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

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

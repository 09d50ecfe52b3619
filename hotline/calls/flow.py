"""One caller's way through the hotline: the menus, then a queue or a person.

Returns the call's outcome in words for the call record.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.exceptions import RedisError

from config.queues import TIERS
from hotline.after_call.surveys import Surveys
from hotline.calls.express import ExpressClaim, ExpressLane
from hotline.calls.records import CallLog
from hotline.calls.sessions import RESUMED
from hotline.desk.agent_desk import AgentDesk
from hotline.queues.service import Queues
from hotline.queues.waiting import (
    ANNOUNCEMENT,
    Announcer,
    CallbackOffer,
    MessageTaker,
    WaitEnd,
    WaitOffers,
)
from hotline.runtime.live_config import LiveConfig
from ivr.announcements import place_in_line
from ivr.billing import BillingBackend, BillingUnavailable
from ivr.menu import Caller, MenuServices, Prompts, run_menu
from ivr.numbers import start_node
from ivr.resume import Resume, resume_at
from pbx.ports import Call, CallControl, CallGone
from quality.recording_index import RecordingIndex
from quality.recordings import recording_source
from routing.decide import WaitingCall

log = logging.getLogger(__name__)

CALLBACK_OFFER, CALLBACK_CONFIRMED = "queue_callback_offer", "queue_callback_confirmed"
MESSAGE_PROMPT = "queue_message"
# What a caller adopted from an engine that died hears first: the YAML's words, else
# Asterisk's own "one moment please".
RESUMED_PROMPT, RESUMED_SOUND = "engine_resumed", "one-moment-please"
# Tier lookups kept ahead of their calls at most: more are calls claimed by peers.
LOOKUPS_AHEAD = 256


class CallFlow:
    def __init__(self, live: LiveConfig, queues: Queues, prompts: Prompts,
                 billing: Callable[[], BillingBackend], clock: Callable[[], float],
                 to_person: Callable[[CallControl, str], Awaitable[None]],
                 recordings_dir: str, surveys: Surveys, recordings: RecordingIndex,
                 recordings_local: Path, desk: AgentDesk, call_log: CallLog,
                 express: ExpressLane | None = None) -> None:
        self.desk = desk
        self.express = express  # None: no express lane at the claim
        self.call_log = call_log
        self.surveys = surveys
        self.recordings = recordings
        self.recordings_local = recordings_local  # the same directory, as the engine sees it
        self.live = live
        self.queues = queues
        self.prompts = prompts
        self.billing = billing
        self.clock = clock
        self.to_person = to_person
        self.recordings_dir = recordings_dir
        # Tier lookups started as calls arrive (`look_ahead`), by call id.
        self._tiers_ahead: OrderedDict[str, asyncio.Future[str]] = OrderedDict()

    async def __call__(self, line: CallControl) -> str:
        call = line.call
        if call.variables.get("agi_arg_1") == RESUMED:
            return await self._resume(line)
        if call.variables.get("agi_arg_1") == "survey":
            return await self._survey(line, call.variables.get("agi_arg_2", ""))
        if call.variables.get("agi_arg_1") == "agent":  # a feature code from an agent's phone
            return await self.desk.feature_code(line, call.variables.get("agi_arg_2", ""),
                                                call.variables.get("agi_arg_3", ""))
        ahead = self._tiers_ahead.pop(call.call_id, None)
        back: WaitingCall | None = None
        if call.variables.get("agi_arg_1") == "returned":  # from a ring
            status = call.variables.get("agi_arg_2", "")
            if status == "ANSWER":  # the agent hung up first: the conversation is over
                await line.hang_up()
                return "the agent ended the conversation"
            back, tier = await asyncio.gather(  # both at once: back in line soon
                self.queues.outcomes.returned(call.call_id, status,
                                              call.variables.get("agi_arg_3", "")),
                self.tier_of(call.caller_number))
        else:  # a new call: nothing in line yet to come back to
            tier = await (ahead if ahead is not None else self.tier_of(call.caller_number))
        if back is not None:  # the agent did not answer: same queue, same place
            outcome, _ = await self._wait(line, back.queue, back.tier, back.boost,
                                          back.arrived_at)
            return outcome
        config = self.live.config
        start = start_node(config, call.dialled_number, call.caller_number)
        if start is None:
            await self._person(line, f"number {call.dialled_number} is not the hotline's")
            return f"to a person: unknown number {call.dialled_number}"
        caller = Caller(language=config.languages.default, tier=tier)
        if config.recording.enabled:
            caller.recording = await self._record(line, config.recording.format)
        return await self._menus(line, start, caller)

    async def _resume(self, line: CallControl) -> str:
        """A caller taken over from an engine that died: an apology, then on from where
        they were: the menu node (asked again from its start), their place in line, the
        survey. Never silence."""
        call = line.call
        record, steps, routed = await asyncio.gather(
            self.call_log.record(call.call_id), self.call_log.steps(call.call_id),
            self.queues.store.call(call.call_id))
        journal = [step["command"] for step in steps]
        at = resume_at(record.get("entry", ""), routed.get("state", ""), journal)
        log.info("call %s resumed: %s %s", call.call_id, at.how, at.node)
        if at.how is Resume.FINISHED:  # nothing more to hear: no apology
            await line.hang_up()
            return "the conversation with the agent is over"
        config = self.live.config
        await line.play(self.prompts.path(config, RESUMED_PROMPT, at.language or
                                          config.languages.default)
                        if RESUMED_PROMPT in config.prompts else RESUMED_SOUND)
        if at.muted:  # a secret was half-typed when the engine died: it is asked again
            await line.mute_recording(False)
        match at.how:
            case Resume.FEATURE_CODE:  # the agent dials it again
                await line.hang_up()
                return "feature code cut short by an engine that died"
            case Resume.SURVEY:
                return await self._survey(line, at.about)
        caller = Caller(language=at.language or config.languages.default,
                        tier=routed.get("tier") or await self.tier_of(call.caller_number),
                        recording=any(c.startswith("RECORDING STARTED ") for c in journal))
        if not caller.recording and config.recording.enabled:  # it came while no engine was
            caller.recording = await self._record(line, config.recording.format)
        if at.how is Resume.WAIT:
            back = await self.queues.outcomes.returned(call.call_id, unheard=True)
            if back is None:  # the line moved on meanwhile
                back = WaitingCall(call.call_id, routed["queue"], float(routed["arrived_at"]),
                                   routed.get("tier", "normal"), int(routed.get("boost", 0)))
            outcome, node = await self._wait(line, back.queue, back.tier, back.boost,
                                             back.arrived_at, routed.get("menu_path"),
                                             caller.language)
            if node is None:
                return outcome
            return await self._menus(line, node, caller)
        start = at.node or start_node(config, call.dialled_number, call.caller_number)
        if start is None:
            await self._person(line, f"number {call.dialled_number} is not the hotline's")
            return f"to a person: unknown number {call.dialled_number}"
        return await self._menus(line, start, caller)

    async def _menus(self, line: CallControl, start: str, caller: Caller) -> str:
        """The menus from `start` on, and the queues they lead to."""
        services = MenuServices(self.prompts,
                                lambda: dt.datetime.fromtimestamp(self.clock(), dt.UTC),
                                self.billing())
        node: str | None = start
        outcome = ""
        while node is not None:
            exit = await run_menu(line, self.live, node, caller, services)
            path = " > ".join(caller.path)
            node = None
            if exit.kind == "queue":
                outcome, node = await self._wait(line, exit.queue, caller.tier, exit.boost,
                                                 None, path, caller.language)
            elif exit.kind == "person":
                await self._person(line, exit.reason)
                outcome = f"to a person: {exit.reason}"
            else:
                outcome = "served by the menu"
        return f"{outcome} (menu: {path})"

    async def _survey(self, line: CallControl, about: str) -> str:
        """A customer answered a satisfaction callback: the survey menu, then the grade
        (the key pressed at the survey's first node) and any spoken comment are kept
        against the served call."""
        config = self.live.config
        caller = Caller(language=config.languages.default)
        day = dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()
        comments = f"comments/{day}"
        # Asterisk writes a spoken comment only into a folder that exists.
        await asyncio.to_thread((self.recordings_local / comments).mkdir, parents=True,
                                exist_ok=True)
        services = MenuServices(self.prompts,
                                lambda: dt.datetime.fromtimestamp(self.clock(), dt.UTC),
                                comment_path=lambda call_id: f"{self.recordings_dir}/"
                                f"{comments}/{call_id}")
        # A customer who hangs up mid-survey has answered what they answered. A session
        # cancelled (the engine stopping, or a peer that took the call over and asks
        # again) stores nothing: the survey has one outcome.
        with contextlib.suppress(CallGone):
            await run_menu(line, self.live, config.sampling.survey, caller, services)
        key = caller.values.get(f"key:{config.sampling.survey}", "")
        grade = int(key) if key in {"1", "2", "3", "4", "5"} else None
        comment = caller.values.get("comment")
        await self.surveys.answered(about, grade, comment and (
            f"{comments}/{comment.rsplit('/', 1)[1]}.wav"))
        return f"survey about {about}: grade {grade if grade is not None else 'none'}"

    def look_ahead(self, call: Call) -> None:
        """A new call has just arrived: its caller's tier is looked up now, while the
        session claims the call, so the wait for an agent starts a round trip sooner.
        Only a head start: a lookup not taken (the call was a peer's) is dropped."""
        if call.variables.get("agi_arg_1") in (RESUMED, "survey", "agent", "returned"):
            return
        if self.express is not None and self.express.plan(call):
            return  # its tier comes with its claim
        while len(self._tiers_ahead) >= LOOKUPS_AHEAD:
            _drop(self._tiers_ahead.popitem(last=False)[1])
        self._tiers_ahead[call.call_id] = asyncio.ensure_future(
            self.tier_of(call.caller_number))

    def claim_ahead(self, call: Call, instance_id: str,
                    entry: str | None) -> Awaitable[str | None] | None:
        """The claim of a call that takes the express lane (see `ExpressLane`), or None:
        returns None when the call is ours, else its owner (as `CallLog.claim_and_open`)."""
        claim = self.express.claim(call, instance_id, entry) if self.express else None
        return None if claim is None else self._claimed_ahead(call, claim)

    async def _claimed_ahead(self, call: Call, claim: Awaitable[ExpressClaim]) -> str | None:
        got = await claim
        if got.owner is None:
            tier: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            tier.set_result(got.tier)
            self._tiers_ahead[call.call_id] = tier
        return got.owner

    def forget(self, call: Call) -> None:
        """The session is over, or the call not ours to serve: its look-ahead is
        dropped, and an agent picked or reserved for it and never rung is let go."""
        dropped = self._tiers_ahead.pop(call.call_id, None)
        if dropped is not None:
            _drop(dropped)
        if self.express is not None:
            self.express.forget(call)

    async def tier_of(self, number: str) -> str:
        """The caller's VIP tier, from the customer directory (the billing backend)."""
        if not number:
            return "normal"
        try:
            async with asyncio.timeout(self.live.config.backends.billing.timeout):
                account = await self.billing().account(number)
        except (TimeoutError, BillingUnavailable) as exc:
            log.warning("customer directory unavailable (%s): tier normal", exc or "timeout")
            return "normal"
        return account.tier if account is not None and account.tier in TIERS else "normal"

    async def _record(self, line: CallControl, fmt: str) -> bool:
        """Whole-call recording from the moment the engine takes the call. The file is
        filed under its queue's folder once the call is over."""
        now = self.clock()
        path, options = recording_source(self.recordings_dir, now, line.call.call_id, fmt)
        try:
            # Expected from now on: a recording that fails to start is still an alarm.
            await self.recordings.started(line.call.call_id, int(now * 1000))
        except RedisError as exc:  # checked at hangup all the same; only a restart misses it
            log.warning("call %s: recording not marked pending: %s", line.call.call_id, exc)
        try:
            await line.start_recording(path, options)
        except CallGone:
            raise
        except Exception:
            log.exception("call %s: recording did not start", line.call.call_id)
            return False
        return True

    async def _wait(self, line: CallControl, queue: str, tier: str, boost: int,
                    arrived_at: float | None, menu_path: str | None = None,
                    language: str = "") -> tuple[str, str | None]:
        """The outcome in words, and the menu node to go on at, if any."""
        config = self.live.config
        if queue not in config.queues:
            await self._person(line, f"queue '{queue}' no longer exists")
            return f"to a person: queue '{queue}' no longer exists", None
        outcome = await self.queues.waiting.wait(
            line, queue, tier=tier, boost=boost, arrived_at=arrived_at, menu_path=menu_path,
            offers=WaitOffers(self._place_in_line(language), self._callback_offer(language),
                              self._message_taker(language)))
        match outcome.end:
            case WaitEnd.MENU:
                return f"left queue {queue} ({outcome.reason})", outcome.node
            case WaitEnd.PERSON:
                await self._person(line, outcome.reason)
                return f"to a person from queue {queue}: {outcome.reason}", None
            case WaitEnd.CONNECTING:
                return f"to an agent from queue {queue}", None
            case WaitEnd.CALLBACK:
                return f"kept in queue {queue} for a callback ({outcome.reason})", None
            case WaitEnd.MESSAGE:
                return f"left a message from queue {queue}: {outcome.reason}", None
            case WaitEnd.GONE:
                return f"caller left queue {queue}", None

    def _place_in_line(self, language: str) -> Announcer:
        """How this caller hears their place in line: the YAML's prompts around the
        numbers, in the caller's language."""
        async def announce(line: CallControl, position: int | None,
                           expected: float | None) -> None:
            config = self.live.config
            lang = language or config.languages.default
            items = place_in_line(position or 0, expected or 0.0, lang, config.prompts.keys(),
                                  say_position=position is not None,
                                  say_wait=expected is not None)
            if not items:
                await line.play(ANNOUNCEMENT)
            for kind, name in items:
                await line.play(self.prompts.path(config, name, lang) if kind == "prompt"
                                else self.prompts.word(lang, name))
        return announce

    def _message_taker(self, language: str) -> MessageTaker | None:
        """At the maximum wait with `then: voicemail`: the caller hears `queue_message`
        and speaks after the beep; the message is kept with the recordings."""
        if MESSAGE_PROMPT not in self.live.config.prompts:
            return None

        async def take(line: CallControl, queue: str) -> str | None:
            config = self.live.config
            day = dt.datetime.fromtimestamp(self.clock(), dt.UTC).date().isoformat()
            folder = f"messages/{day}/{queue}"
            await asyncio.to_thread((self.recordings_local / folder).mkdir, parents=True,
                                    exist_ok=True)
            await line.play(self.prompts.path(config, MESSAGE_PROMPT,
                                              language or config.languages.default))
            if not await line.record_voice(f"{self.recordings_dir}/{folder}/"
                                           f"{line.call.call_id}", max_seconds=120):
                return None
            return f"{folder}/{line.call.call_id}.wav"
        return take

    def _callback_offer(self, language: str) -> CallbackOffer | None:
        """At the maximum wait, when the YAML words the offer: press 1 to hang up and be
        called back, keeping the place in line."""
        config = self.live.config
        if not {CALLBACK_OFFER, CALLBACK_CONFIRMED} <= config.prompts.keys():
            return None

        async def offer(line: CallControl) -> bool:
            config = self.live.config
            lang = language or config.languages.default
            answer = await line.read_digits(self.prompts.path(config, CALLBACK_OFFER, lang),
                                            timeout=6, max_digits=1)
            if answer.digits != "1":
                return False
            await line.play(self.prompts.path(config, CALLBACK_CONFIRMED, lang))
            return True
        return offer

    async def _person(self, line: CallControl, why: str) -> None:
        await self.to_person(line, why)


def _drop(lookup: asyncio.Future[str]) -> None:
    """A look-ahead not taken: stopped, or its failure read (it was nobody's to hear)."""
    if not lookup.done():
        lookup.cancel()
    elif not lookup.cancelled():
        lookup.exception()

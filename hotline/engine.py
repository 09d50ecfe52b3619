"""The engine: the composition root of a running hotline.

It builds every part once, wires them together, and routes the AMI events to the part
that acts on them. What each part does is in its own module; decisions are in the
domain rooms. Every piece of background work runs under one supervisor, so none is lost
and a stop ends them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.model import HotlineConfig
from config.versions import ConfigVersions
from hotline.after_call.recording_keeper import RecordingKeeper
from hotline.after_call.review_picker import ReviewPicker
from hotline.after_call.surveys import SURVEY_CONTEXT, Surveys
from hotline.billing.live_backend import Billing
from hotline.calls.adoption import Adoption
from hotline.calls.express import ExpressLane
from hotline.calls.flow import CallFlow
from hotline.calls.prompt_audio import build_prompts
from hotline.calls.records import CallLog
from hotline.calls.sessions import CallSessions, Menu, PersonFallback
from hotline.desk.agent_desk import AgentDesk
from hotline.desk.listen_in import COACH_CONTEXT, ListenIns, session_of
from hotline.desk.phones import AgentPhones
from hotline.queues.callback_in_line import CALLBACK_CONTEXT
from hotline.queues.queue_log import QueueLog
from hotline.queues.service import Queues
from hotline.queues.stats import QueueStats
from hotline.runtime.due_timers import DueTimers
from hotline.runtime.in_order import InOrder
from hotline.runtime.lease import EngineLease
from hotline.runtime.live_config import LiveConfig
from hotline.runtime.supervisor import Supervisor
from hotline.settings import Settings
from ivr.menu import Prompts
from pbx.agi_call import AgiCalls
from pbx.ami import AmiConnection, ConnectionState
from pbx.events import (
    AgiCommandFinished,
    AmiConnected,
    AmiLost,
    CallArrived,
    CallHungUp,
    CallLeftAgi,
    DeviceStateChanged,
    DialEnded,
    HangupRequested,
    OriginateAnswered,
    OriginateFailed,
    PbxEvent,
    ShutdownHangup,
)
from pbx.originate import AmiOriginator
from pbx.ports import ASTERISK_SHUT_DOWN
from quality.coaching_store import CoachingStore
from quality.recording_index import RecordingIndex
from quality.review_store import ReviewStore
from quality.survey_jobs import SurveyJobs
from routing.store import RoutingStore

log = logging.getLogger(__name__)

# Where the engines' own Originates go (a peer's included: one that died leaves its
# callbacks' answers to the others); Asterisk 22 names it in every OriginateResponse.
# Any other Originate (a dialler, a test tool: an application, no context) is none of
# the engine's business, and costs it no Redis read.
ENGINE_ORIGINATES = frozenset({CALLBACK_CONTEXT, SURVEY_CONTEXT})


class Engine:
    def __init__(self, settings: Settings, redis: Redis, *, menu: Menu | None = None,
                 clock: Callable[[], float] = time.time, watch_config: bool = True) -> None:
        """Raises MissingSecretKey when the settings hold no secret key."""
        self.settings = settings
        self.redis = redis
        self.clock = clock
        self.supervisor = Supervisor()
        self.in_order = InOrder(self.supervisor)
        self.live = LiveConfig(ConfigVersions(redis, settings.key_prefix, clock),
                               settings.config_path, settings.author,
                               poll_every=settings.config_poll, prepare=self._prepare_version,
                               supervisor=self.supervisor)
        self._watch_config = watch_config
        config = lambda: self.live.config  # noqa: E731 - the version live at each call

        self.ami = AmiConnection(settings.ami, self._on_event)
        self.agi = AgiCalls(self.ami)
        self.originator = AmiOriginator(self.ami)
        self.call_log = CallLog(redis, settings.key_prefix, clock, settings.call_record_ttl)
        self.lease = EngineLease(redis, settings.key_prefix, settings.instance_id,
                                 lambda: int(clock() * 1000))
        self.timers = DueTimers(redis, settings.key_prefix, clock, self.supervisor)
        self.routing = RoutingStore(redis, settings.key_prefix)
        self.surveys = Surveys(SurveyJobs(redis, settings.key_prefix), self.originator,
                               config, clock, settings.secret_for("sampling"), self.supervisor)
        self.queue_log = QueueLog(settings.queue_log, clock, self.supervisor)
        self.stats = QueueStats(redis, settings.key_prefix, clock,
                                lambda: self.live.config.calendar.timezone, self.queue_log)
        self.phones = AgentPhones(self.ami, settings.pjsip_agents_file,
                                  settings.secret_for("phones"))
        self.queues = Queues(self.ami, self.routing, config, clock,
                             supervisor=self.supervisor,
                             on_served=self.surveys.served_call_ended, stats=self.stats,
                             dial_strings_set=lambda: self.phones.dial_strings_ready,
                             timers=self.timers,
                             recordings_dir=settings.recordings_dir_asterisk)
        self.billing = Billing(redis, settings.key_prefix, settings.secret_for("billing"),
                               clock)
        self.recordings = RecordingIndex(redis, settings.key_prefix)
        self.keeper = RecordingKeeper(self.recordings, self.call_log, self.routing, settings,
                                      config, clock, self.lease, self.supervisor)
        self.reviews = ReviewPicker(self.recordings, ReviewStore(redis, settings.key_prefix,
                                                                 clock),
                                    config, clock, settings.secret_for("review"),
                                    self.supervisor)
        self.listen_ins = ListenIns(CoachingStore(redis, settings.key_prefix, clock),
                                    self.routing, self.call_log, self.ami, self.originator,
                                    config, clock, self.lease.instance_id, self.supervisor)
        self.agi.on_secret = self.listen_ins.secret_begins
        self.desk = AgentDesk(self.routing, config, clock, self.queues.wake,
                              self.queues.report.agent_moved, self.queues.matcher.known_ready)
        to_person = PersonFallback(settings.fallback_context, settings.fallback_exten)
        # Tests of the telephony path may run a menu of their own instead of the YAML's.
        self.menu: Menu = menu or CallFlow(
            self.live, self.queues, Prompts(settings.prompts_dir_asterisk),
            lambda: self.billing.backend(self.live.config), clock, to_person,
            settings.recordings_dir_asterisk, self.surveys, self.recordings,
            Path(settings.recordings_dir), self.desk, self.call_log,
            ExpressLane(redis, self.call_log, self.routing, self.live,
                        lambda: self.billing.backend(self.live.config), self.queues.matcher,
                        clock))
        flow = self.menu if isinstance(self.menu, CallFlow) else None
        self.calls = CallSessions(self.agi, self.call_log, self.menu, to_person,
                                  self.lease, self.supervisor,
                                  look_ahead=flow.look_ahead if flow else None,
                                  forget=flow.forget if flow else None,
                                  claim_ahead=flow.claim_ahead if flow else None)
        self.adoption = Adoption(self.ami, self.call_log, self.calls, self.lease,
                                 self.supervisor, leftovers=(
                                     self.queues.reconciler.run,
                                     lambda: self.keeper.sweep_after_connect(self.ami)))
        self.listeners: list[Callable[[PbxEvent], None]] = []

    async def start(self, wait: float | None = 10.0) -> None:
        """Take the active config (or the file, at first start), then serve calls.
        Raises ConfigError when there is no valid config to serve from."""
        await self.live.start(watch=self._watch_config)
        await self.lease.take()
        await self.lease.end_dead_neighbours()  # adopted at the AMI login below
        self.adoption.start()
        self.timers.start()
        self.queues.start()
        self.surveys.start()
        self.keeper.start()
        self.reviews.start()
        self.listen_ins.start()
        self.calls.accepting = True
        self.ami.start()
        if wait is not None:
            await self.ami.wait_up(wait)

    async def stop(self) -> None:
        """Stop taking calls; let menus finish briefly, then send callers to a person."""
        await self.calls.stop(self.settings.shutdown_grace)
        await self.supervisor.stop()
        with contextlib.suppress(RedisError):  # else it lapses by itself
            await self.lease.release()
        await self.queue_log.flushed()
        await self.ami.close()

    @property
    def served(self) -> int:
        return self.calls.served

    # --- events -------------------------------------------------------------------

    def _on_event(self, event: PbxEvent) -> None:
        spawn = self.supervisor.spawn
        match event:
            case CallArrived(call=call):
                self.calls.arrived(call)
            case AgiCommandFinished(command_id=command_id, result=result):
                self.agi.command_finished(command_id, result)
            case CallLeftAgi(channel=channel):
                self.agi.left_agi(channel)
            case CallHungUp(channel=channel, call_id=call_id, cause_text=cause,
                            hotline=hotline):
                self.agi.channel_gone(channel, f"hung up ({cause or 'normal'})")
                if session_of(call_id):  # a supervisor's phone, listening in
                    spawn(self.listen_ins.hung_up(call_id), "ending a listen-in", call_id)
                elif hotline:  # not an agent's leg or any other channel: no Redis work
                    # after the call's DialEnd, if any, is handled: it may connect it
                    self.in_order.run(call_id, self.queues.outcomes.call_ended(
                        call_id, channel), "ending a call")
                    spawn(self.keeper.hung_up(call_id, channel), "filing a recording",
                          call_id)
            case DeviceStateChanged(device=device, state=state):
                # In the order the phone changed: a phone switched off and on again
                # must not have its "back" read before its "gone" was written.
                if self.desk.device_heard(device, state):
                    self.in_order.run(f"device:{device}", self.desk.device_changed(
                        device, state), f"presence of {device}")
            case ShutdownHangup(channel=channel):
                # Before its Hangup: the caller's session knows they did not hang up.
                self.agi.channel_gone(channel, ASTERISK_SHUT_DOWN)
            case HangupRequested(channel=channel, cause=cause):
                self.queues.outcomes.causes.note(channel, cause)
            case DialEnded(channel=channel, call_id=call_id, destination=leg, status=status,
                           hotline=True):
                self.in_order.run(call_id, self.queues.outcomes.dial_ended(
                    call_id, channel, leg, status), "ending a ring")
            case OriginateFailed(channel_id=channel_id, reason=reason, context=context) \
                    if context == COACH_CONTEXT:
                spawn(self.listen_ins.not_answered(channel_id, reason),
                      "a listen-in not answered", channel_id)
            case OriginateAnswered(channel_id=channel_id, channel=channel, context=context) \
                    if context == COACH_CONTEXT:
                spawn(self.listen_ins.answered(channel_id, channel), "a listen-in answered",
                      channel_id)
            case OriginateFailed(channel_id=channel_id, reason=reason, context=context) \
                    if context in ENGINE_ORIGINATES:
                spawn(self._originate_failed(channel_id, reason), "a call not answered",
                      channel_id)
            case OriginateAnswered(channel_id=channel_id, channel=channel, context=context) \
                    if context in ENGINE_ORIGINATES:
                # perhaps a customer taking their queue callback: their leg is recorded
                spawn(self.keeper.callback_answered(channel_id, channel),
                      "a callback answered", channel_id)
            case AmiLost(reason=reason):
                self.phones.connection_lost()
                self.calls.asterisk_lost()
                self.agi.everything_gone(f"lost Asterisk: {reason}")
            case AmiConnected():
                spawn(self.adoption.adopt("AMI login"), "adopting calls left in AGI")
                spawn(self.queues.reconciler.run(), "reconciling the lines with Asterisk")
                spawn(self.keeper.sweep_after_connect(self.ami), "recording sweep")
                spawn(self.phones.reload(), "reloading agents' phones")
                spawn(self.phones.publish_dial_strings(self.live.config),
                      "agents' dial strings")
        for listener in self.listeners:
            listener(event)

    async def _originate_failed(self, channel_id: str, reason: str) -> None:
        if not await self.surveys.originate_failed(channel_id, reason):
            # perhaps a caller kept in line for a callback
            await self.queues.callbacks_in_line.missed(channel_id,
                                                       f"not answered (cause {reason})")

    async def _prepare_version(self, config: HotlineConfig) -> None:
        """Before a version is served: its prompts exist as audio Asterisk can play, and
        its agents' phones have endpoints to register to."""
        rendered, _ = await asyncio.to_thread(
            build_prompts, config, self.settings.prompts_dir, lambda _line: None)
        if rendered:
            log.info("rendered %d prompt file(s) into %s", rendered, self.settings.prompts_dir)
        await asyncio.to_thread(self.phones.write, config)
        if self.ami.state is ConnectionState.UP:  # else: at the next login
            await self.phones.reload()
            await self.phones.publish_dial_strings(config)


"""The engine: AMI events in, one session per call, call records in Redis.

This is the composition root of a running hotline: it wires the AMI connection, the
AGI command stream, the call log and the menus. Decisions stay in the domain rooms.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from config.model import HotlineConfig
from config.versions import ConfigVersions
from hotline.after_call.recording_keeper import RecordingKeeper
from hotline.after_call.surveys import Surveys
from hotline.billing.live_backend import Billing
from hotline.calls.flow import CallFlow
from hotline.calls.prompt_audio import build_prompts
from hotline.calls.records import CallLog
from hotline.desk.agent_desk import AgentDesk
from hotline.desk.phones import AgentPhones
from hotline.queues.queue_log import QueueLog
from hotline.queues.stats import QueueStats
from hotline.queues.waiting import Queues
from hotline.runtime.live_config import LiveConfig
from hotline.settings import Settings
from ivr.menu import Prompts
from pbx.agi import AgiResult
from pbx.agi_call import AgiCall, AgiCalls
from pbx.ami import AmiConnection, AmiError, ConnectionState
from pbx.events import (
    AgiCommandFinished,
    AmiConnected,
    AmiLost,
    CallArrived,
    CallHungUp,
    CallLeftAgi,
    DeviceStateChanged,
    DialEnded,
    OriginateFailed,
    PbxEvent,
)
from pbx.originate import AmiOriginator
from pbx.ports import Call, CallControl, CallGone
from quality.recording_index import RecordingIndex
from quality.survey_jobs import SurveyJobs
from routing.store import RoutingStore

log = logging.getLogger(__name__)

Menu = Callable[[CallControl], Awaitable[Any]]


@dataclass
class _Session:
    line: AgiCall
    task: asyncio.Task[None] | None = None
    steps: list[tuple[str, AgiResult | None, str]] = field(default_factory=list)
    steps_lost: bool = False


class Engine:
    def __init__(self, settings: Settings, redis: Redis, *, menu: Menu | None = None,
                 clock: Callable[[], float] = time.time, watch_config: bool = True) -> None:
        self.settings = settings
        self.redis = redis
        self.live = LiveConfig(ConfigVersions(redis, settings.key_prefix, clock),
                               settings.config_path, settings.author,
                               poll_every=settings.config_poll, prepare=self._prepare_version)
        self._watch_config = watch_config
        self.ami = AmiConnection(settings.ami, self._on_event)
        self.agi = AgiCalls(self.ami)
        self.originator = AmiOriginator(self.ami)
        self.clock = clock
        self.call_log = CallLog(redis, settings.key_prefix, clock, settings.call_record_ttl)
        self.routing = RoutingStore(redis, settings.key_prefix)
        self.surveys = Surveys(SurveyJobs(redis, settings.key_prefix), self.originator,
                               lambda: self.live.config, clock,
                               salt=(settings.secret_key or b"development") + b":sampling")
        self.stats = QueueStats(redis, settings.key_prefix, clock,
                                lambda: self.live.config.calendar.timezone,
                                QueueLog(settings.queue_log, clock))
        self.queues = Queues(self.ami, self.routing, lambda: self.live.config, clock,
                             on_served=self.surveys.served_call_ended, stats=self.stats,
                             dial_strings_set=lambda: self.phones.dial_strings_ready)
        # Tests of the telephony path may run a menu of their own instead of the YAML's.
        self.billing = Billing(redis, settings)
        self.recordings = RecordingIndex(redis, settings.key_prefix)
        self.keeper = RecordingKeeper(self.recordings, self.call_log, self.routing, settings,
                                      lambda: self.live.config, clock)
        self.desk = AgentDesk(self.routing, lambda: self.live.config, clock, self.queues.wake)
        self.phones = AgentPhones(self.ami, settings.pjsip_agents_file,
                                  (settings.secret_key or b"development") + b":phones")
        self.menu: Menu = menu or CallFlow(
            self.live, self.queues, Prompts(settings.prompts_dir_asterisk),
            lambda: self.billing.backend(self.live.config), clock, self._to_person,
            settings.recordings_dir_asterisk, self.surveys, self.recordings,
            Path(settings.recordings_dir), self.desk)
        self.sessions: dict[str, _Session] = {}  # by channel
        self.accepting = False
        self.served = 0
        self._background: set[asyncio.Task[Any]] = set()
        self.listeners: list[Callable[[PbxEvent], None]] = []

    async def start(self, wait: float | None = 10.0) -> None:
        """Take the active config (or the file, at first start), then serve calls.
        Raises ConfigError when there is no valid config to serve from."""
        await self.live.start(watch=self._watch_config)
        self.queues.start()
        self.surveys.start()
        self.keeper.start()
        self.accepting = True
        self.ami.start()
        if wait is not None:
            await self.ami.wait_up(wait)

    async def stop(self) -> None:
        """Stop taking calls; let menus finish briefly, then send callers to a person."""
        self.accepting = False
        tasks = [s.task for s in self.sessions.values() if s.task is not None]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self.settings.shutdown_grace)
            for session in list(self.sessions.values()):
                if session.task in pending:
                    await self._to_person(session.line, "engine shutting down")
                    session.task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        for task in list(self._background):
            task.cancel()
        await self.queues.stop()
        await self.surveys.stop()
        await self.keeper.stop()
        await self.live.stop()
        await self.ami.close()

    # --- events -------------------------------------------------------------------

    def _on_event(self, event: PbxEvent) -> None:
        match event:
            case CallArrived(call=call):
                if self.accepting:
                    self._start_session(call)
            case AgiCommandFinished(command_id=command_id, result=result):
                self.agi.command_finished(command_id, result)
            case CallLeftAgi(channel=channel):
                self.agi.channel_gone(channel, "left the engine's control")
            case CallHungUp(channel=channel, call_id=call_id, cause_text=cause):
                self.agi.channel_gone(channel, f"hung up ({cause or 'normal'})")
                self._spawn(self.queues.call_ended(call_id))
                self._spawn(self.keeper.hung_up(call_id))
            case DeviceStateChanged(device=device, state=state):
                self._spawn(self.desk.device_changed(device, state))
            case DialEnded(call_id=call_id, status=status):
                self._spawn(self.queues.dial_ended(call_id, status))
            case OriginateFailed(channel_id=channel_id, reason=reason):
                if channel_id.startswith("survey-"):
                    self._spawn(self.surveys.originate_failed(channel_id, reason))
                else:  # perhaps a caller kept in line for a callback
                    self._spawn(self.queues.callbacks_in_line.missed(channel_id,
                                                             f"not answered (cause {reason})"))
            case AmiLost(reason=reason):
                self.phones.connection_lost()
                self.agi.everything_gone(f"lost Asterisk: {reason}")
            case AmiConnected(reconnect=reconnect):
                if reconnect:
                    self._spawn(self._resync())
                self._spawn(self._sweep_recordings())
                self._spawn(self.phones.reload())
                self._spawn(self.phones.publish_dial_strings(self.live.config))
        for listener in self.listeners:
            listener(event)

    # --- one call -----------------------------------------------------------------

    def _start_session(self, call: Call) -> None:
        if call.channel in self.sessions:
            return
        session = _Session(line=self.agi.open(
            call, observer=lambda line, result, error: self._step(session, line, result, error)))
        self.sessions[call.channel] = session
        session.task = self._spawn(self._serve(session))

    async def _serve(self, session: _Session) -> None:
        line = session.line
        call = line.call
        outcome = "served"
        try:
            try:
                if not await self.call_log.claim_and_open(call, self.settings.instance_id):
                    return  # another engine instance serves this call
            except RedisError as exc:
                # Without Redis there is no record and no claim: a person takes the call.
                log.error("Redis unavailable for call %s (%s); sending caller to a person",
                          call.call_id, exc)
                await self._to_person(line, "redis unavailable")
                outcome = "fallback: redis unavailable"
                return
            log.info("call %s from %r to %s", call.call_id, call.caller_number,
                     call.dialled_number)
            # Both in flight at once: Asterisk runs one session's actions in order.
            await asyncio.gather(line.set_variable("HOTLINE_CALL_ID", call.call_id),
                                 line.set_variable("HOTLINE_CALLER_NAME", call.caller_name))
            result = await self.menu(line)
            if isinstance(result, str):
                outcome = result
        except CallGone as exc:
            outcome = f"caller gone: {exc}"
        except asyncio.CancelledError:
            outcome = "engine stopped"
            raise
        except Exception:
            log.exception("menu failed for call %s; sending caller to a person", call.call_id)
            outcome = "fallback: engine error"
            await self._to_person(line, "engine error")
        finally:
            self.served += 1
            self.agi.close(line)
            self.sessions.pop(call.channel, None)
            await self._close_record(session, outcome)

    async def _step(self, session: _Session, line: str, result: AgiResult | None,
                    error: str) -> None:
        session.steps.append((line, result, error))
        if session.steps_lost:
            return
        try:
            await self.call_log.step(session.line.call.call_id, line, result, error)
        except RedisError as exc:
            log.warning("call %s: step not stored yet (%s)", session.line.call.call_id, exc)
            session.steps_lost = True

    async def _close_record(self, session: _Session, outcome: str) -> None:
        call_id = session.line.call.call_id
        try:
            if session.steps_lost:
                # Redis came back during the call: write the whole journal again.
                keys = self.call_log.keys(call_id)
                await self.redis.delete(keys.steps)
                for line, result, error in session.steps:
                    await self.call_log.step(call_id, line, result, error)
            await self.call_log.closed(call_id, outcome)
        except RedisError as exc:
            log.error("call %s ended (%s) but its record could not be stored: %s",
                      call_id, outcome, exc)

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

    async def _to_person(self, line: CallControl, why: str) -> None:
        try:
            await line.redirect(self.settings.fallback_context, self.settings.fallback_exten)
        except CallGone:
            pass
        except Exception:
            log.exception("could not send call %s to a person (%s)", line.call.call_id, why)

    # --- after a reconnect --------------------------------------------------------

    async def _resync(self) -> None:
        """Callers left waiting in AGI while AMI was down go to a person.

        Their sessions failed with CallGone when the connection dropped, and AsyncAGI
        would otherwise keep them in silence. Channels claimed by another engine
        instance are that instance's to resync.
        """
        try:
            response = await self.ami.send_action({"Action": "CoreShowChannels"})
        except AmiError as exc:
            log.warning("resync after reconnect failed: %s", exc)
            return
        for item in response.events:
            channel, call_id = item.get("Channel", ""), item.get("Uniqueid", "")
            if item.get("Application") != "AGI" or channel in self.sessions:
                continue
            try:
                owner = await self.call_log.owner(call_id)
                if owner not in (None, self.settings.instance_id):
                    continue
                if owner is None and not await self.call_log.claim(
                        call_id, self.settings.instance_id):
                    continue
            except RedisError:
                pass  # the caller's way out matters more than the claim
            log.warning("call %s was left in AGI while AMI was down; to a person", call_id)
            try:
                await self.ami.send_action({
                    "Action": "Redirect", "Channel": channel,
                    "Context": self.settings.fallback_context,
                    "Exten": self.settings.fallback_exten, "Priority": 1})
            except AmiError as exc:
                log.warning("could not redirect %s: %s", channel, exc)

    async def _sweep_recordings(self) -> None:
        """Calls that ended while no engine watched (a restart, a lost connection)
        still get their recording filed and checked."""
        try:
            response = await self.ami.send_action({"Action": "CoreShowChannels"})
            await self.keeper.sweep(item.get("Uniqueid", "") for item in response.events)
        except (AmiError, RedisError, KeyError, ValueError) as exc:
            log.warning("recording sweep failed: %s", exc)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

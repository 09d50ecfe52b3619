"""The satisfaction callback service: sample served calls, place due callbacks over AMI,
record the grade against the call's agent and queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from config.model import HotlineConfig
from hotline.runtime.supervisor import Supervisor
from pbx.ami import AmiError
from pbx.originate import AmiOriginator
from quality.sampling import ServedCall, decide, first_attempt_at, retry_at
from quality.survey_jobs import SurveyCallback, SurveyJobs, attempt_of

log = logging.getLogger(__name__)

SURVEY_CONTEXT = "hotline-survey"
PLACING_DEADLINE = 120.0  # a job not reported back by then is due again


class Surveys:
    def __init__(self, jobs: SurveyJobs, originator: AmiOriginator,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 salt: bytes, supervisor: Supervisor, tick: float = 1.0) -> None:
        self.jobs = jobs
        self.originator = originator
        self.config = config
        self.clock = clock
        self.salt = salt
        self.supervisor = supervisor
        self.tick = tick
        self._rounds: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._rounds = self.supervisor.every("placing due survey callbacks", self.tick,
                                             self._round)

    async def stop(self) -> None:
        """No more rounds from this engine (the engine's stop ends them too)."""
        if self._rounds is not None:
            self._rounds.cancel()
            await asyncio.wait([self._rounds], timeout=5)

    async def served_call_ended(self, call: ServedCall) -> None:
        config = self.config()
        opted_out, last = await self.jobs.exclusions(call.caller_number)
        decision = decide(call, config.sampling, self.salt, opted_out=opted_out,
                          last_surveyed_at=last)
        if not decision.sampled:
            log.debug("call %s not sampled: %s", call.call_id, decision.reason)
            return
        due = first_attempt_at(call, config.sampling, config.calendar.timezone)
        if await self.jobs.schedule(call, due):
            log.info("call %s sampled for a callback (%s), due at %.0f", call.call_id,
                     decision.reason, due)

    async def _round(self) -> None:
        now = self.clock()
        for job in await self.jobs.take_due(now, now + PLACING_DEADLINE):
            await self._place(job)

    async def _place(self, job: SurveyCallback) -> None:
        config = self.config()
        with contextlib.suppress(AmiError):
            if await self.originator.channel_exists(job.channel_id):
                return  # this attempt is already ringing: never ring a customer twice
        await self.jobs.placed(job)
        channel = config.backends.callback_trunk.format(number=job.number)
        try:
            await self.originator.originate(
                channel, context=SURVEY_CONTEXT, exten="s",
                variables={"HOTLINE_SURVEY": job.call_id}, channel_id=job.channel_id,
                caller_id=f'"{config.name}" <{config.numbers.unified}>',
                timeout=config.sampling.ring_for)
            log.info("callback %s: attempt %d to %s", job.call_id, job.attempts + 1, channel)
        except AmiError as exc:
            await self._unanswered(job.call_id, job.attempts + 1, f"not placed: {exc}")

    async def originate_failed(self, channel_id: str, reason: str) -> bool:
        """A callback that was never answered; False when `channel_id` is no survey
        attempt's (another kind of call the engine placed)."""
        attempt = attempt_of(channel_id)
        if attempt is None:
            return False
        await self._unanswered(attempt[0], attempt[1], f"not answered (cause {reason})")
        return True

    async def _unanswered(self, call_id: str, attempts: int, reason: str) -> None:
        rules = self.config().sampling
        when = None
        if attempts < rules.attempts:
            when = retry_at(self.clock(), rules, self.config().calendar.timezone)
        await self.jobs.unanswered(call_id, when, reason)
        log.info("callback %s: %s; %s", call_id, reason,
                 "retry due" if when is not None else "no attempts left")

    async def answered(self, call_id: str, grade: int | None, comment: str | None = None) -> None:
        """`comment`: the customer's spoken comment, under the recordings directory."""
        await self.jobs.answered(call_id, grade, self.clock(), comment or "")



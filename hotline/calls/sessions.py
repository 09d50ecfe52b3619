"""The callers this engine is serving right now: one session per call, from the moment
Asterisk hands the call over (AsyncAGI) until it leaves the engine's control.

A session claims its call in Redis (two engines never serve one call), runs the menu,
journals every AGI step, and closes the call record with the outcome in words. Without
Redis the caller still reaches a person; steps that could not be journalled during an
outage are written whole once Redis answers again.

A call whose owner died is taken over (`hotline.calls.adoption`, or here when it comes
back into AGI); an engine that lost its lease lets the calls a peer took go without a
word.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from hotline.calls.records import CallLog
from hotline.runtime.lease import EngineLease
from hotline.runtime.logs import bind_call
from hotline.runtime.supervisor import Supervisor
from pbx.agi import AgiResult
from pbx.agi_call import AgiCall, AgiCalls
from pbx.ami import AmiError
from pbx.events import CALL_VARIABLE
from pbx.ports import Call, CallControl, CallGone

log = logging.getLogger(__name__)

Menu = Callable[[CallControl], Awaitable[Any]]
Step = tuple[str, AgiResult | None, str]  # command line, result, error
# The AGI argument of a call taken over from an engine that died: the menu resumes it.
RESUMED = "resume"


def entry_of(call: Call) -> str | None:
    """What the dialplan said the call is: its AGI arguments, space-separated. None
    for a resumed call, which keeps what its record says."""
    if call.variables.get("agi_arg_1") == RESUMED:
        return None
    return " ".join(call.variables.get(f"agi_arg_{n}", "") for n in (1, 2, 3)).strip()


@dataclass(frozen=True, slots=True)
class PersonFallback:
    """Where a caller goes when the engine cannot serve the call (extensions.conf)."""

    context: str
    exten: str

    async def __call__(self, line: CallControl, why: str) -> None:
        try:
            await line.redirect(self.context, self.exten)
        except CallGone:
            pass
        except Exception:
            log.exception("could not send call %s to a person (%s)", line.call.call_id, why)


# The menu's claim of a call (see `CallSessions`): None when the call is ours, else its
# owner; or None for a call claimed the usual way.
ClaimAhead = Callable[[Call, str, str | None], Awaitable[str | None] | None]


@dataclass
class _Session:
    line: AgiCall
    task: asyncio.Task[None] | None = None
    steps: list[Step] = field(default_factory=list)
    steps_lost: bool = False
    # Journal entries not stored yet, and the task storing them: the caller's next step
    # never waits for Redis, and entries that pile up go in one write.
    unwritten: list[str] = field(default_factory=list)
    writer: asyncio.Task[None] | None = None
    let_go: bool = False  # this engine lost its lease: the call is no longer ours
    cut_off: bool = False  # the AMI connection dropped: resumed at the next login


class CallSessions:
    def __init__(self, agi: AgiCalls, call_log: CallLog, menu: Menu, to_person: PersonFallback,
                 lease: EngineLease, supervisor: Supervisor,
                 look_ahead: Callable[[Call], None] | None = None,
                 forget: Callable[[Call], None] | None = None,
                 claim_ahead: ClaimAhead | None = None) -> None:
        """`look_ahead(call)`: the menu's lookups that need no claim, started as the
        call arrives; `forget(call)` drops them when the session ends (taken or not);
        `claim_ahead(call, instance id, entry)`: the menu's own claim of a call that
        needs more than the claim in the same round trip (the express lane), or None."""
        self.agi = agi
        self.call_log = call_log
        self.menu = menu
        self.to_person = to_person
        self.lease = lease
        self.supervisor = supervisor
        self.sessions: dict[str, _Session] = {}  # by channel
        self.look_ahead = look_ahead
        self.forget = forget
        self.claim_ahead = claim_ahead
        self.accepting = False
        self.served = 0

    def arrived(self, call: Call) -> None:
        if not self.accepting:
            return
        earlier = self.sessions.get(call.channel)
        # The same channel back in AGI while its earlier session still winds down (a
        # ring that failed at once returns the caller within milliseconds): a new
        # session, or the caller would wait in silence. A live one is a repeat event.
        if earlier is not None and not earlier.line.is_gone:
            return
        session = _Session(line=self.agi.open(
            call, observer=lambda line, result, error: self._step(session, line, result, error)))
        self.sessions[call.channel] = session
        if self.look_ahead is not None:
            self.look_ahead(call)
        session.task = self.supervisor.spawn(self._serve(session), "serving a call",
                                             call.call_id)

    def serving(self, channel: str) -> bool:
        session = self.sessions.get(channel)
        return session is not None and not session.line.is_gone

    def asterisk_lost(self) -> None:
        """The AMI connection dropped: every session fails now, but its caller is
        still in AGI, and is resumed at the next login (`Adoption`)."""
        for session in self.sessions.values():
            session.cut_off = True

    async def let_go_of_taken(self) -> int:
        """This engine's lease had lapsed: peers may have taken some calls over. Those
        sessions end without a word to Asterisk or to the call records (the peer's
        Redirect ends them on the channel too); the others go on. Returns how many
        were let go."""
        let_go = 0
        for session in list(self.sessions.values()):
            owner = await self.call_log.owner(session.line.call.call_id)
            if owner == self.lease.instance_id:
                continue
            session.let_go = True
            let_go += 1
            if session.task is not None:
                session.task.cancel()
        return let_go

    async def stop(self, grace: float) -> None:
        """Stop taking calls; let menus finish briefly, then send callers to a person."""
        self.accepting = False
        tasks = [s.task for s in self.sessions.values() if s.task is not None]
        if not tasks:
            return
        _done, pending = await asyncio.wait(tasks, timeout=grace)
        for session in list(self.sessions.values()):
            if session.task in pending:
                await self.to_person(session.line, "engine shutting down")
                session.task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=5)

    async def _serve(self, session: _Session) -> None:
        line = session.line
        call = line.call
        bind_call(call.call_id)  # every log line of this call's task carries its id
        outcome = "served"
        named: asyncio.Future[None] | None = None
        try:
            try:
                if not await self._claim(call):
                    return  # another engine instance serves this call
            except RedisError as exc:
                # Without Redis there is no record and no claim: a person takes the call.
                log.error("Redis unavailable for call %s (%s); sending caller to a person",
                          call.call_id, exc)
                await self.to_person(line, "redis unavailable")
                outcome = "fallback: redis unavailable"
                return
            log.info("call %s from %r to %s", call.call_id, call.caller_number,
                     call.dialled_number)
            # On the wire now; the menu goes on without waiting for Asterisk's answers.
            named = asyncio.ensure_future(line.set_variables_now({
                CALL_VARIABLE: call.call_id, "HOTLINE_CALLER_NAME": call.caller_name}))
            result = await self.menu(line)
            if isinstance(result, str):
                outcome = result
        except CallGone as exc:
            outcome = f"caller gone: {exc}"
        except asyncio.CancelledError:
            outcome = "engine stopped"
            raise
        except Exception:
            if session.let_go:
                return
            log.exception("menu failed for call %s; sending caller to a person", call.call_id)
            outcome = "fallback: engine error"
            await self.to_person(line, "engine error")
        finally:
            if self.forget is not None:
                self.forget(call)
            if named is not None:
                await self._named(named, call.call_id)
            self.served += 1
            self.agi.close(line)
            if self.sessions.get(call.channel) is session:
                del self.sessions[call.channel]
            if not session.let_go:
                await self._close_record(session, outcome)

    @staticmethod
    async def _named(named: asyncio.Future[None], call_id: str) -> None:
        """The call's variables were answered long ago; a channel gone meanwhile was
        the menu's to find, and any other refusal is an engine problem worth a line."""
        try:
            await named
        except CallGone:
            pass
        except AmiError as exc:
            log.warning("call %s: its variables were not set: %s", call_id, exc)

    async def _claim(self, call: Call) -> bool:
        """Ours: new, already ours, or adopted. A call whose owner died comes back
        into AGI here too (a ring that ended while no engine listened)."""
        me = self.lease.instance_id
        ahead = self.claim_ahead(call, me, entry_of(call)) if self.claim_ahead else None
        owner = await (ahead if ahead is not None else
                       self.call_log.claim_and_open(call, me, entry_of(call)))
        if owner is None:
            return True
        if await self.lease.is_dead(owner) and \
                await self.call_log.take_over(call.call_id, owner, me):
            log.warning("call %s: adopted from engine %s, which is gone", call.call_id, owner)
            return True
        return False

    async def _step(self, session: _Session, line: str, result: AgiResult | None,
                    error: str) -> None:
        session.steps.append((line, result, error))
        if session.steps_lost:
            return
        session.unwritten.append(self.call_log.entry(line, result, error))
        if session.writer is None or session.writer.done():
            session.writer = self.supervisor.spawn(self._write_journal(session),
                                                   "journalling a call",
                                                   session.line.call.call_id)

    async def _write_journal(self, session: _Session) -> None:
        call_id = session.line.call.call_id
        while session.unwritten and not session.steps_lost:
            entries, session.unwritten = session.unwritten, []
            try:
                await self.call_log.append_steps(call_id, entries)
            except RedisError as exc:
                log.warning("call %s: step not stored yet (%s)", call_id, exc)
                session.steps_lost = True  # the whole journal is written at the end

    async def _close_record(self, session: _Session, outcome: str) -> None:
        call_id = session.line.call.call_id
        if session.writer is not None:
            await asyncio.wait([session.writer])  # the journal first, in order
        try:
            if session.steps_lost:  # Redis came back during the call: the whole journal
                await self.call_log.rewrite_steps(call_id, session.steps)
            if not await self.call_log.closed(call_id, outcome, self.lease.instance_id,
                                              resumed=session.cut_off):
                log.warning("call %s: served (%s), but it is another engine's now; its "
                            "record is theirs to close", call_id, outcome)
        except RedisError as exc:
            log.error("call %s ended (%s) but its record could not be stored: %s",
                      call_id, outcome, exc)

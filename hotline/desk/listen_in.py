"""Supervisors listening in, for the engines: the asks the web side leaves in Redis
(`quality.coaching_store`) are taken by one engine each, decided by
`quality.coaching.listen_in`, and carried out with an Originate to the supervisor's own
phone, which runs ChanSpy (`[hotline-coach]` in the dialplan) once answered.

Every engine hears every hangup, so any engine ends a session whose phone hung up, even
one placed by an engine that has died since.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from config.model import HotlineConfig
from hotline.calls.records import CallLog
from hotline.runtime.supervisor import Supervisor
from ivr.resume import where_in_menus
from pbx.ami import AmiConnection, AmiError
from pbx.ports import Originator
from quality.coaching import CallNow, ListenOn, Mode, Refused, listen_in, secret_nodes
from quality.coaching_store import Ask, CoachingStore
from routing.store import RoutingStore

log = logging.getLogger(__name__)

COACH_CONTEXT = "hotline-coach"
CHANNEL_PREFIX = "coach-"  # the supervisor's channel's unique id: coach-<session id>
ASK_FRESH = 15.0  # seconds: an older ask (the engines were away) is answered too late
RING_FOR = 30.0


def session_of(unique_id: str) -> str:
    """The listen-in a channel's unique id belongs to, or ""."""
    return unique_id.removeprefix(CHANNEL_PREFIX) if unique_id.startswith(CHANNEL_PREFIX) \
        else ""


class ListenIns:
    def __init__(self, store: CoachingStore, routing: RoutingStore, call_log: CallLog,
                 ami: AmiConnection, originator: Originator,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 consumer: str, supervisor: Supervisor) -> None:
        self.store = store
        self.routing = routing
        self.call_log = call_log
        self.ami = ami
        self.originator = originator
        self.config = config
        self.clock = clock
        self.consumer = consumer
        self.supervisor = supervisor

    def start(self) -> None:
        self.supervisor.forever("taking listen-in asks", self._take_asks)

    async def _take_asks(self) -> None:
        while True:
            for ask in await self.store.take(self.consumer, block_ms=2000):
                try:
                    await self._carry_out(ask)
                finally:
                    await self.store.done(ask)

    async def _carry_out(self, ask: Ask) -> None:
        session = await self.store.session(ask.session_id)
        if not session:
            return  # lapsed: nobody waits for it
        if ask.kind == "end":
            await self._hang_up(session, "ended from the page")
            return
        if session.get("state") != "asked":
            return  # taken before (an engine that died before acknowledging it)
        if self.clock() - float(ask.fields.get("at") or 0) > ASK_FRESH:
            await self.store.refused(session, "late", "the engines took too long to "
                                                      "answer: ask again")
            return
        try:
            mode = Mode(session.get("mode", ""))
        except ValueError:
            await self.store.refused(session, "mode", "no such way to listen in")
            return
        call = await self._call_now(session.get("call_id", ""))
        decision = listen_in(call, mode, secret_nodes(self.config().menus))
        if isinstance(decision, Refused):
            log.info("listen-in %s by %s on call %s refused: %s", ask.session_id,
                     session.get("by"), call.call_id, decision.reason)
            await self.store.refused(session, decision.reason, decision.said)
            return
        await self._ring(session, call, decision, mode)

    async def _ring(self, session: dict[str, str], call: CallNow, on: ListenOn,
                    mode: Mode) -> None:
        session_id = session["id"]
        # Ringing before the Originate: its answer may come before our next line.
        await self.store.decided(session_id, "ringing", agent=on.agent_id,
                                 listening_to=on.channel, listened_call=call.call_id)
        who = f"agent {on.agent_id}" if on.agent_id else "a caller"
        try:
            await self.originator.originate(
                session["phone"], context=COACH_CONTEXT, exten="s",
                caller_id=f'"{mode.value} {who}" <{call.call_id[:20]}>',
                variables={"HOTLINE_SPY_ON": on.channel,
                           "HOTLINE_SPY_OPTIONS": on.options},
                channel_id=f"{CHANNEL_PREFIX}{session_id}", timeout=RING_FOR)
        except AmiError as exc:
            log.warning("listen-in %s: the supervisor's phone %s could not be called: %s",
                        session_id, session["phone"], exc)
            await self.store.not_answered(session_id, f"the phone could not be called: {exc}")
            return
        log.info("listen-in %s: %s's phone %s rings to %s call %s (%s)", session_id,
                 session.get("by"), session["phone"], mode.value, call.call_id, on.channel)

    async def _call_now(self, call_id: str) -> CallNow:
        routed = await self.routing.call(call_id) if call_id else {}
        snapshot = await self.call_log.snapshot(call_id) if call_id else None
        record = snapshot.record if snapshot else {}
        where = where_in_menus(step.get("command", "") for step in
                               (snapshot.steps if snapshot else []))
        caller_channel = routed.get("channel") or record.get("channel", "")
        # In the menus, the call's record is open; once it left them for a line or an
        # agent, the line says whether it goes on.
        in_a_line = routed.get("state") in ("waiting", "offered", "connected")
        live = bool(caller_channel) and (in_a_line or bool(record.get("open")))
        return CallNow(call_id, live=live,
                       caller_channel=caller_channel, queue_state=routed.get("state", ""),
                       agent_id=routed.get("agent", ""), agent_leg=routed.get("agent_leg", ""),
                       node=where.node, typing_secret=where.muted)

    # --- what Asterisk tells every engine --------------------------------------------

    async def answered(self, unique_id: str, channel: str) -> None:
        session_id = session_of(unique_id)
        await self.store.answered(session_id, channel)
        session = await self.store.session(session_id)
        if session.get("end_asked"):  # ended from the page while it rang
            await self._hang_up(session, "ended from the page")

    async def not_answered(self, unique_id: str, reason: str) -> None:
        await self.store.not_answered(session_of(unique_id), f"not answered (cause {reason})")

    async def hung_up(self, unique_id: str) -> None:
        session_id = session_of(unique_id)
        if await self.store.ended(session_id, "hung up"):
            log.info("listen-in %s ended", session_id)

    async def secret_begins(self, call_id: str) -> None:
        """The caller starts typing a secret: whoever listens is cut off first."""
        for session in await self.store.listening_to(call_id):
            log.warning("listen-in %s on call %s cut off: the caller is typing a secret",
                        session.get("id"), call_id)
            await self._hang_up(session, "cut off: the caller typed a secret")

    async def _hang_up(self, session: dict[str, str], why: str) -> None:
        await self.store.end_asked(session["id"], why)
        channel = session.get("channel", "")
        if not channel:
            return  # still ringing: hung up as soon as it is answered
        try:
            await self.ami.send_action({"Action": "Hangup", "Channel": channel}, check=False)
        except AmiError as exc:
            log.warning("listen-in %s: its phone %s could not be hung up: %s",
                        session.get("id"), channel, exc)

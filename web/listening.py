"""Listening in from the wallboard: the supervisor asks, an engine decides and rings the
supervisor's own phone (`hotline.desk.listen_in`); the page shows what came of it.
Supervisors and admins only; each ask and each end is audited here, and each session's
length in the listen-in log (`quality.coaching_store`)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Awaitable, Callable

from quality.coaching import Mode
from quality.coaching_store import CoachingStore
from web import pages
from web.account_store import AccountStore, Session
from web.accounts import Role, may_listen_in
from web.exchange import Answer, Asked, plain, see_other
from web.listen_page import log_body, session_body
from web.words import words_for

log = logging.getLogger(__name__)

CALL_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
VERDICT_WAIT = 5.0  # seconds the ask's answer waits for an engine's verdict


class Listening:
    def __init__(self, store: CoachingStore, accounts: AccountStore,
                 language: Callable[[Asked], Awaitable[str]],
                 zone: Callable[[], Awaitable[dt.tzinfo]]) -> None:
        """`zone`: the hotline's time zone (the YAML's calendar), for the log's times."""
        self.store = store
        self.accounts = accounts
        self._language = language
        self._zone = zone

    async def log_page(self, asked: Asked, session: Session) -> Answer:
        """GET /listen: the last listen-ins, refusals included."""
        if not may_listen_in(session.account):
            return plain(403, "the listen-in log is for supervisors and admins\n")
        language = await self._language(asked)
        words = words_for(language)
        body = log_body(words, await self.store.log(200), await self._zone())
        return Answer(200, pages.page(words, language, words["listen_log"], body,
                                      session.account, session.csrf))

    async def ask(self, asked: Asked, session: Session, call_id: str = "") -> Answer:
        """POST /calls/<id>/listen, or /listen with the call in the form."""
        who = session.account
        if not may_listen_in(who):
            return plain(403, "listening in is for supervisors and admins\n")
        call_id = call_id or asked.form.get("call", "").strip()
        if not CALL_ID.match(call_id):
            return plain(400, "no such call id\n")
        try:
            mode = Mode(asked.form.get("mode", ""))
        except ValueError:
            return plain(400, "listen, whisper or barge?\n")
        if not who.phone:
            return plain(409, "your account has no phone to ring: an admin sets it with "
                              f"`hotline users phone {who.username} PJSIP/...`\n")
        session_id = secrets.token_hex(8)
        await self.store.ask(session_id, who.username, who.phone, call_id, mode.value)
        await self.accounts.audit(who.username, asked.address, "listen in", call_id,
                                  f"{mode.value} on {who.phone} (session {session_id})")
        log.info("web: %s asks to %s call %s (session %s)", who.username, mode.value,
                 call_id, session_id)
        await self.store.verdict(session_id, VERDICT_WAIT)
        return see_other(f"/listen/{session_id}")

    async def page(self, asked: Asked, session: Session, session_id: str) -> Answer:
        found = await self._theirs(session, session_id)
        if isinstance(found, Answer):
            return found
        language = await self._language(asked)
        words = words_for(language)
        return Answer(200, pages.page(words, language, words["listen_in"],
                                      session_body(words, found, session.csrf),
                                      session.account, session.csrf))

    async def end(self, asked: Asked, session: Session, session_id: str) -> Answer:
        found = await self._theirs(session, session_id)
        if isinstance(found, Answer):
            return found
        await self.store.ask_end(session_id)
        await self.accounts.audit(session.account.username, asked.address,
                                  "listen in ended", found.get("call_id", ""),
                                  f"session {session_id}")
        # The engine hangs the phone up within a moment, and the page says so (a phone
        # still ringing is hung up when answered).
        await self.store.verdict(session_id, 3.0)
        return see_other(f"/listen/{session_id}")

    async def _theirs(self, session: Session, session_id: str) -> dict[str, str] | Answer:
        """The session, if it is this person's to see: their own, or any for an admin."""
        if not may_listen_in(session.account):
            return plain(403, "listening in is for supervisors and admins\n")
        found = await self.store.session(session_id)
        if not found:
            return plain(404, "no such listen-in (they are kept a day)\n")
        if found.get("by") != session.account.username and session.account.role is not Role.ADMIN:
            return plain(403, "this listen-in is another supervisor's\n")
        return found

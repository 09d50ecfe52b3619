"""The supervisor's console, beside the floor: the routing YAML, recordings, survey
results and the monthly quality review. Supervisors and admins only (403 otherwise);
every write and every play is audited. The rules are `web.accounts`, `quality.review`
and `quality.reports`; the pages are `web.config_page`, `web.recordings_page`,
`web.reviews_page` and `web.surveys_page`."""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections.abc import Awaitable, Callable
from pathlib import Path

from config.diff import describe_changes
from config.loader import ConfigError, Problem, check_text
from config.model import HotlineConfig
from config.versions import NothingToRollBack
from quality.reports import build
from quality.review import (
    ScoreRefused,
    format_marks,
    month_of,
    previous_month,
    score,
)
from quality.review import report as review_report
from quality.review_store import ReviewStore
from web import pages
from web.account_store import AccountStore, Session
from web.accounts import may_activate, may_watch_floor
from web.config_page import NAME as CONFIG_NAME
from web.config_page import config_body
from web.exchange import Answer, Asked, plain, see_other
from web.reading import Reader
from web.recordings_page import FILTERS, matches, recording_body, search_body
from web.reviews_page import queue_body, report_body, review_body
from web.surveys_page import surveys_body
from web.words import words_for

log = logging.getLogger(__name__)


class Console:
    def __init__(self, reader: Reader, accounts: AccountStore, review_store: ReviewStore,
                 recordings_dir: Path | None, clock: Callable[[], float],
                 language: Callable[[Asked], Awaitable[str]]) -> None:
        """`recordings_dir`: where recordings are filed, as this process sees them; a
        file the index names outside it is never sent. `language`: the page's."""
        self.reader = reader
        self.accounts = accounts
        self.review_store = review_store
        self.recordings_dir = recordings_dir
        self.clock = clock
        self._language = language

    # --- the routing YAML ----------------------------------------------------------------

    async def config_page(self, asked: Asked, session: Session, text: str | None = None,
                           problems: list[Problem] | None = None,
                           checked: HotlineConfig | None = None, said: str = "",
                           status: int = 200) -> Answer:
        if not may_watch_floor(session.account):
            return plain(403, "the routing YAML is for supervisors and admins\n")
        live = await self.reader.versions.active()
        live_config = await self.reader.config()
        changes = describe_changes(live_config, checked) if checked is not None else None
        if not said and asked.query.get("live"):
            said = words_for(await self._language(asked))["now_live"].format(
                asked.query["live"])
        language = await self._language(asked)
        words = words_for(language)
        body = config_body(words, session.csrf, text if text is not None else
                           (live.text if live else ""), live.number if live else None,
                           problems, changes, await self.reader.versions.history(),
                           may_activate(session.account,
                                        live_config.console.supervisors_may_activate), said)
        return Answer(status, pages.page(words, language, words["routing"], body,
                                         session.account, session.csrf))

    def _pasted(self, asked: Asked) -> str:
        """The YAML sent: the uploaded file when there is one, else the text area (a
        browser sends the text area's line ends as CR LF)."""
        return (asked.form.get("file") or asked.form.get("text", "")).replace("\r\n", "\n")

    async def config_check(self, asked: Asked, session: Session) -> Answer:
        text = self._pasted(asked)
        checked, problems = check_text(text, CONFIG_NAME)
        return await self.config_page(asked, session, text, problems, checked,
                                       status=200 if checked is not None else 422)

    async def config_activate(self, asked: Asked, session: Session) -> Answer:
        live_config = await self.reader.config()
        if not may_activate(session.account, live_config.console.supervisors_may_activate):
            return plain(403, "activating a version is for admins (and for supervisors when "
                              "the YAML's console.supervisors_may_activate says so)\n")
        text = self._pasted(asked)
        try:
            activation = await self.reader.versions.activate(
                text, author=session.account.username, source=CONFIG_NAME)
        except ConfigError as exc:  # the page's check was bypassed, or the text changed
            return await self.config_page(asked, session, text, exc.problems, status=422)
        await self.accounts.audit(session.account.username, asked.address, "config activated",
                                  target=f"version {activation.version.number}",
                                  detail=activation.loaded.sha256[:12])
        return see_other(f"/config?live={activation.version.number}")

    async def config_rollback(self, asked: Asked, session: Session) -> Answer:
        live_config = await self.reader.config()
        if not may_activate(session.account, live_config.console.supervisors_may_activate):
            return plain(403, "rolling back is for admins (and for supervisors when the "
                              "YAML's console.supervisors_may_activate says so)\n")
        try:
            version = await self.reader.versions.rollback(author=session.account.username)
        except NothingToRollBack as exc:
            return await self.config_page(asked, session, said=str(exc), status=409)
        await self.accounts.audit(session.account.username, asked.address, "config rolled back",
                                  target=f"version {version.number}")
        return see_other(f"/config?live={version.number}")

    # --- recordings ---------------------------------------------------------------------

    async def recordings(self, asked: Asked, session: Session) -> Answer:
        if not may_watch_floor(session.account):
            return plain(403, "recordings are for supervisors\n")
        wanted = {k: v.strip() for k, v in asked.query.items() if k in FILTERS and v.strip()}
        day = wanted.get("day") or self.reader.today()
        try:
            entries = await self.reader.recordings_of_day(day)
        except ValueError:
            return plain(400, f"'{day}' is not a day: YYYY-MM-DD\n")
        grades = await self.reader.grades([e.get("call_id", "") for e in entries])
        found = [e for e in entries if matches(e, grades.get(e.get("call_id", ""), ""), wanted)]
        language = await self._language(asked)
        words = words_for(language)
        body = search_body(words, {**wanted, "day": day}, found[:500], grades)
        return Answer(200, pages.page(words, language, words["recordings"], body,
                                      session.account, session.csrf))

    async def recording(self, asked: Asked, session: Session, recording_id: str,
                         what: str | None) -> Answer:
        who = session.account
        if not may_watch_floor(who):
            return plain(403, "recordings are for supervisors\n")
        index = self.reader.recordings
        entry = await index.entry(recording_id)
        if not entry:
            return plain(404, "no such recording\n")
        call_id = entry.get("call_id", recording_id)
        if what in ("flag", "unflag") and asked.method == "POST":
            reason = asked.form.get("reason", "").strip()[:200]
            if what == "flag":
                if not reason:
                    return plain(400, "say why the recording is kept\n")
                await index.flag(call_id, reason)
            else:
                await index.unflag(call_id)
            await self.accounts.audit(who.username, asked.address, f"recording {what}ged",
                                      target=f"call {call_id}", detail=reason)
            return see_other(f"/recordings/{recording_id}")
        if what == "audio" and asked.method == "GET":
            return await self._audio(asked, session, recording_id, entry)
        if what is not None or asked.method != "GET":
            return plain(405, "not here\n")
        grade = (await self.reader.grades([call_id])).get(call_id, "")
        language = await self._language(asked)
        words = words_for(language)
        return Answer(200, pages.page(words, language, words["recording"], recording_body(
            words, recording_id, entry, grade, session.csrf), who, session.csrf))

    # --- the monthly quality review ------------------------------------------------------

    async def _review_month(self, asked: Asked) -> tuple[str, HotlineConfig]:
        config = await self.reader.config()
        zone = zoneinfo.ZoneInfo(config.calendar.timezone)
        month = asked.query.get("month", "")
        if not re.fullmatch(r"\d{4}-\d{2}", month):
            month = previous_month(month_of(self.clock(), zone))
        return month, config

    async def reviews(self, asked: Asked, session: Session) -> Answer:
        if not may_watch_floor(session.account):
            return plain(403, "reviews are for supervisors\n")
        month, config = await self._review_month(asked)
        picked = await self.review_store.picked(month)
        reviews = await self.review_store.reviews([c for calls in picked.values() for c in calls])
        return await self._page(asked, session, "reviews", queue_body(
            words_for(await self._language(asked)), month, picked, reviews, config.review))

    async def review_report(self, asked: Asked, session: Session) -> Answer:
        if not may_watch_floor(session.account):
            return plain(403, "reviews are for supervisors\n")
        month, config = await self._review_month(asked)
        picked = await self.review_store.picked(month)
        calls = [c for ids in picked.values() for c in ids]
        agents = review_report(config.review, picked, await self.review_store.reviews(calls),
                               await self.reader.grades(calls))
        return await self._page(asked, session, "review_report", report_body(
            words_for(await self._language(asked)), month, config.review, agents))

    async def review(self, asked: Asked, session: Session, call_id: str) -> Answer:
        who = session.account
        if not may_watch_floor(who):
            return plain(403, "reviews are for supervisors\n")
        entry = await self.reader.recordings.entry(call_id)
        config = await self.reader.config()
        zone = zoneinfo.ZoneInfo(config.calendar.timezone)
        month = month_of(float(entry.get("ended") or 0) / 1000, zone) if entry else ""
        agent = entry.get("agent", "")
        if not entry or call_id not in (await self.review_store.picked(month)).get(agent, []):
            return plain(404, "that call is not picked for review\n")
        if asked.method == "POST":
            try:
                marks = score(config.review, asked.form)
            except ScoreRefused as exc:
                return plain(400, f"{exc}\n")
            await self.review_store.save(call_id, agent, month, who.username, format_marks(marks),
                                    asked.form.get("comment", "").strip()[:2000])
            await self.accounts.audit(who.username, asked.address, "call reviewed",
                                      target=f"call {call_id}", detail=format_marks(marks))
            return see_other(f"/reviews?month={month}")
        review = (await self.review_store.reviews([call_id])).get(call_id, {})
        return await self._page(asked, session, "review", review_body(
            words_for(await self._language(asked)), call_id, entry, config.review, review,
            session.csrf))

    async def _page(self, asked: Asked, session: Session, title: str,
                            body: str) -> Answer:
        language = await self._language(asked)
        words = words_for(language)
        return Answer(200, pages.page(words, language, words[title], body, session.account,
                                      session.csrf))

    # --- survey results -------------------------------------------------------------------

    async def surveys(self, asked: Asked, session: Session) -> Answer:
        if not may_watch_floor(session.account):
            return plain(403, "survey results are for supervisors\n")
        config = await self.reader.config()
        jobs, results = await self.reader.surveys.everything()
        report = build(jobs, results, zoneinfo.ZoneInfo(config.calendar.timezone))
        language = await self._language(asked)
        words = words_for(language)
        return Answer(200, pages.page(words, language, words["surveys"],
                                      surveys_body(words, report), session.account,
                                      session.csrf))

    async def comment(self, asked: Asked, session: Session, call_id: str) -> Answer:
        """The customer's spoken comment on a survey, under the recordings folder."""
        if not may_watch_floor(session.account):
            return plain(403, "survey comments are for supervisors\n")
        comment = (await self.reader.surveys.result(call_id)).get("comment", "")
        if not comment or self.recordings_dir is None:
            return plain(404, "no spoken comment for that call\n")
        path = self._filed(self.recordings_dir / comment, f"survey comment of {call_id}")
        if path is None:
            return plain(404, "the comment's file is not where recordings are kept\n")
        if asked.range_start in (None, 0):
            await self.accounts.audit(session.account.username, asked.address,
                                      "survey comment played", target=f"call {call_id}")
        return Answer(200, b"", "audio/wav", file=path)

    def _filed(self, path: Path, what: str) -> Path | None:
        """`path` when it is a file inside the recordings folder: a damaged or forged
        index entry never sends another file."""
        if self.recordings_dir is None or ".." in path.parts or \
                not path.is_relative_to(self.recordings_dir):
            log.warning("web: %s is outside the recordings folder (%s)", what, path)
            return None
        return path if path.is_file() else None

    async def _audio(self, asked: Asked, session: Session, recording_id: str,
                     entry: dict[str, str]) -> Answer:
        path = self._filed(Path(entry.get("path", "")), f"recording {recording_id}")
        if path is None:
            return plain(404, "the recording's file is gone, or not where recordings "
                              "are kept\n")
        # A player fetches a recording in many ranges: the first (or whole) fetch is the
        # play that the audit keeps.
        if asked.range_start in (None, 0):
            what = "recording downloaded" if asked.query.get("download") else "recording played"
            await self.accounts.audit(session.account.username, asked.address, what,
                                      target=f"recording {recording_id}")
        answer = Answer(200, b"", "audio/wav" if path.suffix == ".wav"
                        else "application/octet-stream", file=path)
        if asked.query.get("download"):
            answer.headers["Content-Disposition"] = \
                f'attachment; filename="{recording_id}{path.suffix}"'
        return answer

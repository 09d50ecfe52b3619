"""What each address of the web side answers: plain requests in, plain answers out
(`web.exchange`). The stores do the I/O; who may do what is `web.accounts`; what a page
shows is `web.floor` and `web.pages`."""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import html
import json
import logging
import re
import secrets
import time
import zoneinfo
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from importlib import resources
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from agents.state import Move, MoveRefused
from config.model import HotlineConfig
from quality.coaching_store import CoachingStore
from quality.review_store import ReviewStore
from web import pages
from web.account_store import AccountStore, LoginRefused, Session
from web.accounts import (
    MoveAsked,
    Role,
    may_see_agent,
    may_watch_floor,
    move_asked,
)
from web.console import Console
from web.dispositions import Dispositions
from web.exchange import LOGIN_COOKIE, SESSION_COOKIE, Answer, Asked, Cookie, plain, see_other
from web.listening import Listening
from web.live import Listener, Live
from web.metrics import exposition
from web.reading import NoConfig, Reader
from web.words import page_language, words_for

log = logging.getLogger(__name__)

KEEP_ALIVE = 15.0  # seconds between comments on a quiet event stream (proxies drop idle)
CSRF_PLACEHOLDER = "__csrf__"  # in fragments rendered once for every open wallboard
_AGENT_PATH = re.compile(r"^/agents/([^/]+)/(state|disposition)$")
_REVIEW_PATH = re.compile(r"^/reviews/([A-Za-z0-9._-]+)$")
_COMMENT_PATH = re.compile(r"^/surveys/([A-Za-z0-9._-]+)/comment$")
_LISTEN_PATH = re.compile(r"^/(?:calls/([A-Za-z0-9._-]+)/listen|listen/([0-9a-f]{16})(/end)?)$")
_RECORDING_PATH = re.compile(r"^/recordings/([A-Za-z0-9._-]+)(?:/(audio|flag|unflag))?$")
_STATIC = {"live.js": "text/javascript; charset=utf-8", "hotline.css": "text/css; charset=utf-8"}

Handler = Callable[[Asked, Session], Awaitable[Answer]]


class WebSide:
    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float] = time.time,
                 recordings_dir: Path | None = None) -> None:
        """`recordings_dir`: where the recordings are filed, as this process sees them
        (the console sends no file from anywhere else)."""
        self.redis = redis
        self.clock = clock
        self.accounts = AccountStore(redis, prefix, clock)
        self.reader = Reader(redis, prefix, clock)
        self.live = Live(redis, self.reader.routing.keys.floor, self.reader.floor_and_hour)
        self.dispositions = Dispositions(redis, prefix, self.reader)
        self.console = Console(self.reader, self.accounts, ReviewStore(redis, prefix, clock),
                               recordings_dir, clock, self._language)
        self.listening = Listening(CoachingStore(redis, prefix, clock), self.accounts,
                                   self._language, self._zone)
        # The wallboard's fragments as last rendered, as JSON, for the reading and
        # language they were rendered from: every open wallboard is sent the same, with
        # its own token put in (so one rendering and one encoding per reading, not one
        # per wallboard).
        self._rendered: tuple[tuple[object, str], str] = ((None, ""), "{}")
        self._config_read: tuple[object, asyncio.Future[HotlineConfig]] | None = None
        self.engines_key = f"{prefix}engines"
        self.lease_prefix = f"{prefix}engine:"
        self._routes: dict[tuple[str, str], Handler] = {
            ("GET", "/desk"): self._desk, ("GET", "/wallboard"): self._wallboard,
            ("GET", "/events"): self._events, ("POST", "/logout"): self._logout,
            ("GET", "/"): self._home, ("GET", "/config"): self.console.config_page,
            ("POST", "/config/check"): self.console.config_check,
            ("POST", "/config/activate"): self.console.config_activate,
            ("POST", "/config/rollback"): self.console.config_rollback,
            ("GET", "/recordings"): self.console.recordings,
            ("GET", "/surveys"): self.console.surveys, ("GET", "/reviews"): self.console.reviews,
            ("GET", "/reviews/report"): self.console.review_report,
            ("POST", "/listen"): self.listening.ask, ("GET", "/listen"): self.listening.log_page,
        }

    # --- the way in -------------------------------------------------------------------

    async def answer(self, asked: Asked) -> Answer:
        """Every request: the open addresses first, then a session for the rest."""
        try:
            return await self._answer(asked)
        except NoConfig as exc:
            return _unavailable(asked, str(exc))
        except RedisError as exc:
            log.warning("web: Redis is unavailable: %s", exc)
            return _unavailable(asked, "the hotline's Redis is unavailable; "
                                       "this page tries again by itself")

    async def _answer(self, asked: Asked) -> Answer:
        if asked.path == "/healthz":
            return plain(200, "ok\n")
        if asked.path == "/readyz":
            return await self._ready()
        if asked.path == "/metrics":
            return await self._metrics()
        if asked.path == "/favicon.ico":
            return plain(404, "no icon\n")
        if asked.path.startswith("/static/"):
            return self._static(asked.path.removeprefix("/static/"))
        if asked.path == "/login":
            return await (self._log_in(asked) if asked.method == "POST"
                          else self._login_page(asked))
        session = await self.accounts.session(asked.cookies.get(SESSION_COOKIE, ""))
        if session is None:
            if asked.method == "GET" and asked.path != "/events":
                return see_other("/login")
            return plain(401, "log in first\n")
        if asked.method == "POST" and not _csrf_ok(asked, session.csrf):
            log.warning("web: POST %s by %s from %s without a valid CSRF token", asked.path,
                        session.account.username, asked.address)
            return plain(403, "this form is stale or was not sent by the hotline's page: "
                              "reload the page and try again\n")
        handler = self._routes.get((asked.method, asked.path))
        if handler is not None:
            return await handler(asked, session)
        if (found := _REVIEW_PATH.match(asked.path)) is not None:
            return await self.console.review(asked, session, found.group(1))
        if (found := _COMMENT_PATH.match(asked.path)) is not None:
            return await self.console.comment(asked, session, found.group(1))
        if (found := _LISTEN_PATH.match(asked.path)) is not None:
            return await self._listen(asked, session, *found.groups())
        if (found := _RECORDING_PATH.match(asked.path)) is not None:
            return await self.console.recording(asked, session, *found.groups())
        if asked.method == "POST" and (found := _AGENT_PATH.match(asked.path)):
            agent_id, what = found.groups()
            if what == "state":
                return await self._move(asked, session, agent_id)
            return await self._disposition(asked, session, agent_id)
        return plain(404, "no such page\n")

    async def _listen(self, asked: Asked, session: Session, call_id: str | None,
                      session_id: str | None, end: str | None) -> Answer:
        if call_id is not None and asked.method == "POST":
            return await self.listening.ask(asked, session, call_id)
        if session_id is not None and end and asked.method == "POST":
            return await self.listening.end(asked, session, session_id)
        if session_id is not None and not end and asked.method == "GET":
            return await self.listening.page(asked, session, session_id)
        return plain(405, "not this way\n")

    async def _zone(self) -> dt.tzinfo:
        return zoneinfo.ZoneInfo((await self.reader.config()).calendar.timezone)

    async def _language(self, asked: Asked) -> str:
        try:
            config = await self.reader.config()
        except NoConfig:
            return page_language([], "en", asked.accept_language)
        return page_language(config.languages.offered, config.languages.default,
                             asked.accept_language)

    # --- open addresses ---------------------------------------------------------------

    async def _ready(self) -> Answer:
        try:
            await self.redis.ping()
            await self.reader.config()
        except NoConfig as exc:
            return plain(503, f"not ready: {exc}\n")
        except RedisError as exc:
            return plain(503, f"not ready: Redis: {exc}\n")
        return plain(200, "ready\n")

    async def _metrics(self) -> Answer:
        board = await self.reader.floor()
        now = self.clock()
        seen = [str(e) for e in
                await self.redis.zrangebyscore(self.engines_key, (now - 3600) * 1000, "+inf")]
        async with self.redis.pipeline(transaction=False) as pipe:
            for engine in seen:
                pipe.exists(self.lease_prefix + engine)
            held = await pipe.execute()
        engines = {engine: bool(up) for engine, up in zip(seen, held, strict=True)}
        return Answer(200, exposition(board, now, engines, True, self.live.connected),
                      "text/plain; version=0.0.4; charset=utf-8")

    def _static(self, name: str) -> Answer:
        if name not in _STATIC:
            return plain(404, "no such file\n")
        body = resources.files(__package__).joinpath("static", name).read_bytes()
        return Answer(200, body, _STATIC[name], headers={"Cache-Control": "max-age=300"})

    async def _login_page(self, asked: Asked, error: str = "", status: int = 200) -> Answer:
        # The token already given stays: a second tab, or any request that was sent
        # here meanwhile, must not make the first tab's form stale.
        token = asked.cookies.get(LOGIN_COOKIE, "")
        if not re.fullmatch(r"[A-Za-z0-9_-]{32}", token):
            token = secrets.token_urlsafe(24)
        language = await self._language(asked)
        answer = Answer(status, pages.login_page(words_for(language), language, token, error))
        answer.cookies.append(Cookie(LOGIN_COOKIE, token))
        return answer

    async def _log_in(self, asked: Asked) -> Answer:
        if not _csrf_ok(asked, asked.cookies.get(LOGIN_COOKIE, "")):
            return await self._login_page(asked, "the login form was stale: try again", 403)
        username = asked.form.get("username", "").strip().lower()
        outcome = await self.accounts.log_in(username, asked.form.get("password", ""),
                                             asked.address)
        if isinstance(outcome, LoginRefused):
            log.warning("web: failed login as %r from %s%s", username, asked.address,
                        " (throttled)" if outcome.throttled else "")
            await self.accounts.audit(username, asked.address, "login failed",
                                      detail="throttled" if outcome.throttled else "")
            return await self._login_page(asked, outcome.why, 429 if outcome.throttled else 401)
        await self.accounts.audit(username, asked.address, "logged in")
        home = "/desk" if outcome.account.role is Role.AGENT else "/wallboard"
        return see_other(home, [Cookie(SESSION_COOKIE, outcome.token),
                                Cookie(LOGIN_COOKIE, "", max_age=0)])

    # --- pages ------------------------------------------------------------------------

    async def _home(self, asked: Asked, session: Session) -> Answer:
        return see_other("/desk" if session.account.role is Role.AGENT else "/wallboard")

    async def _logout(self, asked: Asked, session: Session) -> Answer:
        await self.accounts.log_out(session.token)
        await self.accounts.audit(session.account.username, asked.address, "logged out")
        return see_other("/login", [Cookie(SESSION_COOKIE, "", max_age=0)])

    async def _desk(self, asked: Asked, session: Session) -> Answer:
        who = session.account
        if who.role is not Role.AGENT:
            return see_other("/wallboard")
        config = await self.reader.config()
        if who.agent_id not in config.agents:
            return plain(404, f"agent {who.agent_id} is not in the live routing config\n")
        language = await self._language(asked)
        agent = await self.reader.agent(who.agent_id)
        pop = await self.reader.screen_pop(agent.call_id) if agent.call_id else None
        return Answer(200, pages.desk_page(words_for(language), language, who, session.csrf,
                                           agent, pop, config.not_ready_reasons,
                                           config.dispositions))

    async def _wallboard(self, asked: Asked, session: Session) -> Answer:
        if not may_watch_floor(session.account):
            return plain(403, "the wallboard is for supervisors\n")
        config = await self.reader.config()
        language = await self._language(asked)
        board = await self.live.current_floor()
        return Answer(200, pages.wallboard_page(words_for(language), language,
                                                session.account, session.csrf, board,
                                                config.not_ready_reasons, usual_target(config)))

    # --- writes -----------------------------------------------------------------------

    async def _move(self, asked: Asked, session: Session, agent_id: str) -> Answer:
        config = await self.reader.config()
        decided = move_asked(session.account, agent_id, asked.form.get("move", ""),
                             asked.form.get("reason", ""), config.not_ready_reasons,
                             agent_id in config.agents)
        if not isinstance(decided, MoveAsked):
            return plain(decided.status, decided.why + "\n")
        try:
            new = await self.reader.routing.apply(agent_id, Move(decided.move), self.clock(),
                                                  decided.reason)
        except MoveRefused as exc:
            return plain(409, f"{exc}\n")
        await self.accounts.audit(session.account.username, asked.address, decided.move,
                                  target=f"agent {agent_id}",
                                  detail=f"-> {new.value} {decided.reason}".strip())
        return see_other("/desk" if session.account.role is Role.AGENT else "/wallboard")

    async def _disposition(self, asked: Asked, session: Session, agent_id: str) -> Answer:
        if not may_see_agent(session.account, agent_id) or session.account.role is not Role.AGENT:
            return plain(403, "an agent records the disposition of their own calls\n")
        config = await self.reader.config()
        code, call_id = asked.form.get("code", ""), asked.form.get("call", "")
        if code not in config.dispositions:
            return plain(400, f"'{code}' is not a disposition: "
                              f"{', '.join(config.dispositions)}\n")
        refused = await self.dispositions.record(agent_id, call_id, code,
                                                 asked.form.get("note", "")[:500])
        if refused:
            return plain(409, refused + "\n")
        await self.accounts.audit(session.account.username, asked.address, "disposition",
                                  target=f"call {call_id}", detail=code)
        return see_other("/desk")

    # --- live updates -----------------------------------------------------------------

    async def _events(self, asked: Asked, session: Session) -> Answer:
        who = session.account
        view = asked.query.get("view", "")
        if view == "desk" and who.role is Role.AGENT:
            listener = self.live.listen(who.agent_id)
        elif view == "wallboard" and may_watch_floor(who):
            listener = self.live.listen(None)
        else:
            return plain(403, "no such view for this account\n")
        language = await self._language(asked)
        return Answer(200, b"", "text/event-stream; charset=utf-8",
                      headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
                      stream=self._stream(listener, session, language))

    async def _stream(self, listener: Listener, session: Session,
                      language: str) -> AsyncIterator[bytes]:
        words = words_for(language)
        try:
            yield b"retry: 2000\n\n"
            while True:
                fragments = await self._fragments(listener, session, words)
                yield _event(listener, self.live.connected, fragments)
                while True:
                    try:
                        async with asyncio.timeout(KEEP_ALIVE):
                            await listener.changed.wait()
                        break
                    except TimeoutError:
                        yield b": still here\n\n"
                listener.changed.clear()
        finally:
            self.live.leave(listener)

    async def _fragments(self, listener: Listener, session: Session,
                         words: pages.Words) -> str:
        """The page's fragments as JSON text."""
        if not self.live.connected:
            return "{}"
        board = await self.live.current_floor()
        config = await self._config_for(board)
        if listener.agent_id is None:
            # Checked after the config's await: the first wallboard back renders, the
            # others find its rendering.
            seen, language = self._rendered[0]
            if seen is not board or language != words["title"]:  # a reading, a language
                self._rendered = ((board, words["title"]), json.dumps(
                    pages.wallboard_fragments(words, board, CSRF_PLACEHOLDER,
                                              config.not_ready_reasons, usual_target(config))))
            # (A token is URL-safe base64: it needs no escaping in JSON.)
            return self._rendered[1].replace(CSRF_PLACEHOLDER, session.csrf)
        agent = await self.reader.agent(listener.agent_id)
        pop = await self.reader.screen_pop(agent.call_id) if agent.call_id else None
        return json.dumps({
            "state": pages.desk_state(words, agent, config.not_ready_reasons, session.csrf),
            "pop": pages.desk_pop(words, pop, config.dispositions, session.csrf, agent)})


    def _config_for(self, board: object) -> asyncio.Future[HotlineConfig]:
        """The active config, read once per floor reading: every open page's update
        follows the same reading, so they share one read (a Redis round trip)."""
        if self._config_read is None or self._config_read[0] is not board:
            self._config_read = (board, asyncio.ensure_future(self.reader.config()))
        return self._config_read[1]


def usual_target(config: HotlineConfig) -> float:
    """The service-level target most queues have: the one drawn on the hour's chart."""
    targets = Counter(q.service_level.target for q in config.queues.values())
    return targets.most_common(1)[0][0] if targets else 0.85


def _unavailable(asked: Asked, why: str) -> Answer:
    """503. A page (a GET a person made) says so and loads itself again in a few
    seconds, so a wallboard on the wall comes back by itself."""
    if asked.method != "GET" or asked.path == "/events":
        return plain(503, why + "\n")
    return Answer(503, '<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" '
                       f'content="5"><title>503</title><p>{html.escape(why)}</p>',
                  headers={"Retry-After": "5"})


def _csrf_ok(asked: Asked, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(asked.form.get("csrf", ""), expected)


def _event(listener: Listener, live: bool, fragments: str) -> bytes:
    """One server-sent event: which change the page now shows, and its fragments (JSON
    text already)."""
    head = json.dumps({"change": listener.last_change, "first": listener.first_change,
                       "live": live})
    return (b"event: fragments\ndata: " + head[:-1].encode() + b', "fragments": '
            + fragments.encode() + b"}\n\n")

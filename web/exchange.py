"""A request and its answer as plain data: the handlers (`web.handlers`) never see
twisted, and the server (`web.server`) only carries these to and from the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

SESSION_COOKIE = "hotline_session"
LOGIN_COOKIE = "hotline_login"  # the login form's CSRF token, before any session


@dataclass(frozen=True, slots=True)
class Asked:
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    address: str = ""
    secure: bool = False  # served over TLS: cookies get the Secure flag
    accept_language: str = ""
    # Where a Range request starts (bytes=N-...); None without one.
    range_start: int | None = None


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    value: str
    max_age: int | None = None  # None: for the browser's session; 0: delete it


@dataclass(slots=True)
class Answer:
    status: int = 200
    body: str | bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[Cookie] = field(default_factory=list)
    # A stream (Server-Sent Events): the chunks to write as they come, until the page
    # goes away.
    stream: AsyncIterator[bytes] | None = None
    # A file sent as it is, with Range requests answered (206): a recording.
    file: Path | None = None


def see_other(where: str, cookies: list[Cookie] | None = None) -> Answer:
    """After a POST: the browser loads `where` with a GET (no resubmit on reload)."""
    return Answer(303, b"", headers={"Location": where}, cookies=cookies or [])


def plain(status: int, text: str) -> Answer:
    return Answer(status, text, "text/plain; charset=utf-8")

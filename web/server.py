"""The web side on the wire: twisted.web on the asyncio reactor, carrying requests to
`web.handlers` as plain data and their answers back. Nothing here decides anything.

Every answer carries the headers that keep the pages to themselves: no framing, no
scripts but our own, no sniffing, no referrer sent elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from twisted.internet.defer import Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request
from twisted.web.static import File

from web.exchange import Answer, Asked
from web.handlers import WebSide

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
MAX_FORM = 2 * 1024 * 1024  # a routing YAML of thousands of agents fits


def asked_of(request: Request) -> Asked:
    def text(raw: bytes | None) -> str:
        return (raw or b"").decode("utf-8", "replace")

    query = {text(k): text(v[0]) for k, v in (request.args or {}).items() if v} \
        if request.method == b"GET" else {}
    form: dict[str, str] = {}
    if request.method == b"POST":
        # twisted parses urlencoded bodies into `args` too, query and body together.
        form = {text(k): text(v[0]) for k, v in (request.args or {}).items() if v}
    cookies = {}
    for header in request.requestHeaders.getRawHeaders(b"cookie", []):
        for part in header.split(b";"):
            name, _, value = part.strip().partition(b"=")
            cookies[text(name)] = text(value)
    address = request.getClientAddress()
    ranged = re.match(r"bytes=(\d+)-", text(request.getHeader(b"range")))
    return Asked(method=text(request.method), path=text(request.path), query=query,
                 form=form, cookies=cookies, address=str(getattr(address, "host", "")),
                 secure=request.isSecure(),
                 accept_language=text(request.getHeader(b"accept-language")),
                 range_start=int(ranged.group(1)) if ranged else None)


class HotlineSite(Resource):
    isLeaf = True

    def __init__(self, side: WebSide) -> None:
        super().__init__()
        self.side = side

    def render(self, request: Request) -> Any:
        length = request.getHeader(b"content-length")
        if length is not None and length.isdigit() and int(length) > MAX_FORM:
            request.setResponseCode(413)
            return b"too large\n"
        task = asyncio.ensure_future(self._serve(request))
        finished: Deferred[None] = request.notifyFinish()
        finished.addErrback(lambda _: task.cancel())  # the page went away
        return NOT_DONE_YET

    async def _serve(self, request: Request) -> None:
        try:
            answer = await self.side.answer(asked_of(request))
        except Exception:
            log.exception("web: %s %s failed", request.method, request.path)
            answer = Answer(500, "something went wrong on our side; it is logged\n",
                            "text/plain; charset=utf-8")
        if request.finished or request._disconnected:
            return
        self._head(request, answer)
        if answer.file is not None:
            self._send_file(request, answer)
            return
        if answer.stream is None:
            body = answer.body.encode() if isinstance(answer.body, str) else answer.body
            request.write(body)
            request.finish()
            return
        try:
            async for chunk in answer.stream:
                if request._disconnected:
                    break
                request.write(chunk)
        except asyncio.CancelledError:
            pass
        finally:
            await answer.stream.aclose()  # type: ignore[attr-defined]
            if not request.finished and not request._disconnected:
                request.finish()

    def _send_file(self, request: Request, answer: Answer) -> None:
        """twisted.web's own file resource: Range requests (seeking), 206, 416, HEAD."""
        assert answer.file is not None
        served = File(str(answer.file), defaultType=answer.content_type)
        served.type, served.encoding = answer.content_type, None
        body = served.render(request)
        if body is not NOT_DONE_YET:
            request.write(body)
            request.finish()

    def _head(self, request: Request, answer: Answer) -> None:
        request.setResponseCode(answer.status)
        request.setHeader(b"content-type", answer.content_type.encode())
        for name, value in {**SECURITY_HEADERS, **answer.headers}.items():
            request.setHeader(name.encode(), value.encode())
        if "Cache-Control" not in answer.headers:
            request.setHeader(b"cache-control", b"no-store")
        for cookie in answer.cookies:
            request.addCookie(cookie.name.encode(), cookie.value.encode(), path=b"/",
                              max_age=None if cookie.max_age is None else str(cookie.max_age),
                              httpOnly=True, secure=request.isSecure(), sameSite="strict")

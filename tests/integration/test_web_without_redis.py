"""The web side with its Redis gone: a page says so and loads itself again, never a
traceback; the event stream and the probes answer 503 plainly."""

from __future__ import annotations

from hotline.dev.local_redis import free_port
from hotline.runtime.redis_client import connect
from web.exchange import SESSION_COOKIE, Asked
from web.handlers import WebSide


async def test_without_redis_pages_say_so_and_come_back_by_themselves() -> None:
    redis = connect(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    side = WebSide(redis, "gone:")
    try:
        page = await side.answer(Asked("GET", "/wallboard", cookies={SESSION_COOKIE: "x"}))
        assert page.status == 503
        assert isinstance(page.body, str)
        assert 'http-equiv="refresh"' in page.body and "Redis is unavailable" in page.body
        stream = await side.answer(Asked("GET", "/events", cookies={SESSION_COOKIE: "x"}))
        assert stream.status == 503 and stream.stream is None
        ready = await side.answer(Asked("GET", "/readyz"))
        assert ready.status == 503 and "Redis" in str(ready.body)
        assert (await side.answer(Asked("GET", "/healthz"))).status == 200
    finally:
        await redis.aclose()

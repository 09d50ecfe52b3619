"""The web process holds nothing of its own: killed (SIGKILL) and started again, the open
desk reconnects by itself with the same session, and it rides out a Redis restart."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from playwright.async_api import Browser

from agents.state import Move
from hotline.dev.local_redis import LocalRedis
from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.settings import Settings
from tests.browser.conftest import logged_in, person
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]


async def test_a_killed_web_process_and_a_redis_restart_lose_nothing(
        engine: Engine, web: WebProcess, browser: Browser, accounts: AccountStore,
        settings: Settings, redis_server: LocalRedis, tmp_path: Path) -> None:
    await person(accounts, "zhou", Role.AGENT, "1001")
    desk = await logged_in(browser, web, "zhou")
    await desk.click("button[value=log_in]")
    await desk.click("button[value=ready]")
    await desk.wait_for_selector("#state.ready")

    assert web.proc is not None
    web.proc.kill()
    await desk.wait_for_selector("#link.down", timeout=10_000)
    assert (await engine.routing.agent("1001"))["state"] == "ready"  # nothing was lost
    again = await WebProcess(settings.redis_url, settings.key_prefix, tmp_path / "again.log",
                             port=web.port).start()
    try:
        # The page's own event stream comes back, on the session kept in Redis.
        await desk.wait_for_selector("#link:not(.down)", timeout=15_000)
        await engine.routing.apply("1001", Move.GO_NOT_READY, time.time(), "meeting")
        await desk.wait_for_selector("#state.not_ready", timeout=5_000)
        assert "meeting" in await desk.inner_text("#state")

        await asyncio.to_thread(redis_server.restart)
        await engine.routing.apply("1001", Move.GO_READY, time.time())
        await desk.wait_for_selector("#state.ready", timeout=15_000)
        assert await desk.get_attribute("#link", "class") == "link"
        await desk.reload()
        assert desk.url.endswith("/desk")  # still logged in: the session is Redis's
        assert await again.status("/readyz") == 200
    finally:
        await again.stop()
    assert again.tracebacks() == 0, again.log()

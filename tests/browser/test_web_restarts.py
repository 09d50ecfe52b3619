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
from tests.browser.conftest import PASSWORD, logged_in, person
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


async def test_over_tls_the_session_cookie_is_secure(
        engine: Engine, accounts: AccountStore, settings: Settings, tmp_path: Path,
        browser: Browser) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    made = await asyncio.create_subprocess_exec(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    assert await made.wait() == 0
    tls = await WebProcess(settings.redis_url, settings.key_prefix, tmp_path / "tls.log",
                           tls=(cert, key)).start()
    try:
        await person(accounts, "zhou", Role.AGENT, "1001")
        context = await browser.new_context(ignore_https_errors=True)
        page = await context.new_page()
        await page.goto(f"{tls.url}/login")
        await page.fill("input[name=username]", "zhou")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("form.login button[type=submit]")
        await page.wait_for_url("**/desk")
        cookies = {c["name"]: c for c in await context.cookies()}
        session = cookies["hotline_session"]
        assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
    finally:
        await tls.stop()
    assert tls.tracebacks() == 0, tls.log()

"""Browser fixtures: Debian's Chromium driven by playwright (never a downloaded browser),
and a real `hotline web` process on the test's Redis and key prefix."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright
from redis.asyncio import Redis

from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.settings import Settings
from tests.integration.helpers import engine_for, talk_and_wait_hotline
from web.account_store import AccountStore
from web.accounts import Role

CHROMIUM = "/usr/bin/chromium"
# As root, in a closed network: no sandbox (root), nothing phoning home at start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PASSWORD = "correct horse battery"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `deploy/bootstrap test` installs Debian's "
                    "chromium package", pytrace=False)
    async with async_playwright() as driver:
        launched = await driver.chromium.launch(executable_path=CHROMIUM,
                                                args=CHROMIUM_ARGS, headless=True)
        yield launched
        await launched.close()


@pytest.fixture
async def web(settings: Settings, tmp_path: Path) -> AsyncIterator[WebProcess]:
    process = await WebProcess(settings.redis_url, settings.key_prefix, tmp_path / "web.log",
                               recordings_dir=settings.recordings_dir).start()
    yield process
    await process.stop()
    assert process.tracebacks() == 0, process.log()


@pytest.fixture
def accounts(redis: Redis, settings: Settings) -> AccountStore:
    return AccountStore(redis, settings.key_prefix)


def browser_hotline() -> str:
    """Two queues ("180" to talk, "184" to wait), a gold tier, zh and en; agent 1001
    picks up after 4 s of ringing and wraps up for a minute, 1002 answers at once."""
    text = talk_and_wait_hotline(
        '  "1001": {name: Zhou Min, endpoint: Local/1001@sim-agent-slow, '
        "skills: {talk: 5}, wrap_up: 60s}\n"
        '  "1002": {name: Wu Lei, endpoint: Local/1002@sim-agent, skills: {wait: 5}}\n')
    return text.replace("    normal: {priority: 0, max_wait: 300s}",
                        "    gold: {priority: 200, max_wait: 40s}\n"
                        "    normal: {priority: 0, max_wait: 300s}") \
        .replace("  offered: [zh]", "  offered: [zh, en]") \
        .replace("text: {zh: 按0人工服务。}",
                 "text: {zh: 按0人工服务。, en: Press 0 for a person.}")


@pytest.fixture
async def engine(settings: Settings, redis: Redis, tmp_path: Path) -> AsyncIterator[Engine]:
    """The browser tests' engine serves `browser_hotline` (not the welcome menu)."""
    engine, _ = await engine_for(settings, redis, browser_hotline(), tmp_path)
    yield engine
    await engine.stop()


async def person(accounts: AccountStore, username: str, role: Role,
                 agent_id: str = "") -> str:
    await accounts.add(username, role, PASSWORD, agent_id, username.title())
    return username


async def logged_in(browser: Browser, web: WebProcess, username: str,
                    language: str = "en-US") -> Page:
    page = await (await browser.new_context(locale=language)).new_page()
    await page.goto(f"{web.url}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.wait_for_load_state()
    return page

"""Browser fixtures: Debian's Chromium driven by playwright (never a downloaded browser),
and a real `hotline web` process on the test's Redis and key prefix."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright

from hotline.dev.web_process import WebProcess
from hotline.settings import Settings
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
    process = await WebProcess(settings.redis_url, settings.key_prefix,
                               tmp_path / "web.log").start()
    yield process
    await process.stop()
    assert process.tracebacks() == 0, process.log()


@pytest.fixture
def accounts(redis: object, settings: Settings) -> AccountStore:
    from redis.asyncio import Redis

    assert isinstance(redis, Redis)
    return AccountStore(redis, settings.key_prefix)


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

"""The routing YAML in the browser, against a real engine, the sandbox and Redis: a typo
is shown at its line in the CLI's own words, a valid change activated from the page
changes what the next caller hears, and a rollback restores it."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Browser
from redis.asyncio import Redis

from hotline.calls.journal import caller_view
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.settings import Settings
from tests.browser.conftest import SCREENSHOTS, browser_hotline, logged_in, person
from tests.integration.helpers import until
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]

TYPO = ("  to_wait: {kind: queue, queue: wait}", "  to_wait: {kind: queue, queu: wait}")
NEW_PROMPT = ("    prompt: menu\n", "    prompt: menu_again\n")
NEW_TEXT = ("prompts:\n", "prompts:\n  menu_again:\n"
            "    text: {zh: 您好请按0。, en: 'Hello, press 0.'}\n")


@pytest.fixture
async def engine(settings: Settings, redis: Redis, tmp_path: Path) -> AsyncIterator[Engine]:
    """An engine that follows the live version, as `hotline serve` does."""
    path = tmp_path / "hotline.yaml"
    path.write_text(browser_hotline())
    engine = Engine(replace(settings, config_path=path), redis)
    engine.live.poll_every = 0.5
    await engine.start()
    yield engine
    await engine.stop()


async def cli_check(text: str, directory: Path) -> list[str]:
    """What `hotline config check` says of the same text, in a file of the page's name."""
    (directory / "routing.yaml").write_text(text)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", "config", "check", "routing.yaml", cwd=directory,
        stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    return [line for line in out.decode().splitlines() if line.startswith("routing.yaml:")
            and (": error:" in line or ": warning:" in line)]


async def heard(engine: Engine, call_id: str) -> list[str]:
    return caller_view(await engine.call_log.steps(call_id))


async def test_a_typo_shows_at_its_line_and_a_change_goes_live_and_back(
        engine: Engine, web: WebProcess, browser: Browser, accounts: AccountStore,
        redis: Redis, tmp_path: Path) -> None:
    await person(accounts, "ada", Role.ADMIN)
    page = await logged_in(browser, web, "ada")
    await page.goto(f"{web.url}/config")
    live_text = await page.input_value("textarea[name=text]")
    assert live_text.replace("\r\n", "\n") == browser_hotline()

    typo = live_text.replace(*TYPO)
    await page.fill("textarea[name=text]", typo)
    await page.click("#check")
    shown = [line.strip() for line in await page.locator("#problems li").all_inner_texts()]
    said = await cli_check(typo, tmp_path)
    assert said and shown == said, (shown, said)
    line = int(said[0].split(":")[1])
    assert typo.splitlines()[line - 1] == TYPO[1]
    assert await page.get_attribute(f"#L{line}", "class") == "error"
    assert await page.is_disabled("#activate")
    await page.screenshot(path=str(SCREENSHOTS / "config-typo.png"), full_page=True)

    changed = live_text.replace(*NEW_PROMPT).replace(*NEW_TEXT)
    await page.fill("textarea[name=text]", changed)
    await page.click("#check")
    assert "Valid" in await page.inner_text("#problems")
    assert "menu_again" in await page.inner_text("#diff")
    await page.click("#activate")
    await page.wait_for_url("**/config?live=2")
    assert "Version 2 is live." in await page.inner_text("main")
    await until(lambda: asyncio.sleep(0, engine.live.version), 10,
                "the engine serves version 2", holds=lambda v: v == 2)

    call = await place_call(engine.originator, SimulatedCaller(dialled_number="10000", stay=3))
    await until(lambda: heard(engine, call), 20, "the next caller hears the new prompt",
                holds=lambda lines: any("menu_again" in line for line in lines))

    await page.click("#rollback")
    await page.wait_for_url("**/config?live=1")
    await until(lambda: asyncio.sleep(0, engine.live.version), 10,
                "the engine serves version 1 again", holds=lambda v: v == 1)
    call = await place_call(engine.originator, SimulatedCaller(dialled_number="10000", stay=3))
    lines = await until(lambda: heard(engine, call), 20, "the caller after hears the old one",
                        holds=lambda lines: any("heard" in line for line in lines))
    assert not any("menu_again" in line for line in lines), lines
    history = await page.inner_text("table.history")
    assert "rollback" in history and "ada" in history
    trail = [e["what"] for e in await accounts.audit_trail()]
    assert trail[:2] == ["config rolled back", "config activated"]


async def test_a_supervisor_checks_but_cannot_activate_unless_the_yaml_says_so(
        engine: Engine, web: WebProcess, browser: Browser, accounts: AccountStore) -> None:
    await person(accounts, "sue", Role.SUPERVISOR)
    await person(accounts, "zhou", Role.AGENT, "1001")
    page = await logged_in(browser, web, "sue")
    await page.goto(f"{web.url}/config")
    assert await page.locator("#activate").count() == 0
    csrf = await page.get_attribute("input[name=csrf]", "value")
    assert csrf
    text = await page.input_value("textarea[name=text]")
    refused = await page.request.post(f"{web.url}/config/activate",
                                      multipart={"csrf": csrf, "text": text + "\n"})
    assert refused.status == 403
    assert engine.live.version == 1
    agent = await logged_in(browser, web, "zhou")
    assert (await agent.request.get(f"{web.url}/config")).status == 403

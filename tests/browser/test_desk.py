"""The agent desk in Chromium, against a real engine, the sandbox and Redis: the agent
goes ready on the page, a VIP caller is offered, the screen pop shows who is calling
before the agent answers, and the disposition chosen in wrap-up is stored with the
call. Nothing on the page is mocked."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from playwright.async_api import Browser, Page
from redis.asyncio import Redis

from hotline.billing.redis_store import RedisBilling
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.settings import Settings
from tests.browser.conftest import SCREENSHOTS, logged_in, person
from tests.integration.helpers import until
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]

VIP = "13911112222"


async def state_of(page: Page) -> str:
    return (await page.inner_text("#state .state-name")).strip()


async def test_the_screen_pop_shows_the_vip_caller_before_the_answer(
        engine: Engine, web: WebProcess, browser: Browser, accounts: AccountStore,
        settings: Settings, redis: Redis) -> None:
    billing = RedisBilling(redis, settings.key_prefix, settings.secret_key)
    await billing.open_account(VIP, 12345, tier="gold", bill_fen=6780,
                               bill_due=dt.date(2026, 12, 20))
    await person(accounts, "zhou", Role.AGENT, "1001")
    desk = await logged_in(browser, web, "zhou")
    assert desk.url.endswith("/desk")
    assert await state_of(desk) == "Logged out"
    await desk.click("button[value=log_in]")
    await desk.click("button[value=ready]")
    assert await state_of(desk) == "Ready"
    assert (await engine.routing.agent("1001"))["state"] == "ready"

    call_id = await place_call(engine.originator, SimulatedCaller(
        caller_number=VIP, caller_name="Li Na", dialled_number="180", stay=15))
    # The phone rings for 4 s before the agent picks up: the pop is there first.
    await desk.wait_for_selector("#pop .number", timeout=10_000)
    assert await state_of(desk) in ("Call offered", "Ringing")
    assert (await engine.routing.agent("1001"))["state"] in ("reserved", "ringing")
    assert await desk.inner_text("#pop .number") == VIP
    assert await desk.inner_text("#pop .name") == "Li Na"
    assert await desk.inner_text("#pop .tier") == "gold"
    assert await desk.inner_text("#pop .balance") == "¥123.45"
    assert "¥67.80" in await desk.inner_text("#pop .bill")
    assert await desk.inner_text("#pop .queue") == "talk"

    await until(lambda: state_of(desk), 15, "the agent answers, talks and hangs up",
                holds=lambda s: s == "Wrap-up")
    await desk.select_option("form.disposition select[name=code]", "complaint")
    await desk.fill("form.disposition input[name=note]", "bill dispute, call back Friday")
    await desk.click("form.disposition button[type=submit]")
    await desk.wait_for_selector("#pop .saved")
    routed = await engine.routing.call(call_id)
    assert routed["disposition"] == "complaint"
    assert routed["disposition_note"] == "bill dispute, call back Friday"
    entry = await until(lambda: engine.recordings.entry(call_id), 20,
                        "the recording is filed", holds=lambda e: "path" in e)
    assert entry["disposition"] == "complaint"
    day = engine.stats.day()
    counted = await redis.hget(engine.stats.key(day, "talk", "all"), "disposition:complaint")
    assert counted == "1"

    await desk.click("button[value=wrap_up_done]")
    assert await state_of(desk) == "Ready"
    assert (await engine.routing.agent("1001"))["state"] == "ready"
    audit = await accounts.audit_trail()
    # The same customer calls again: the pop shows the first call and how it ended.
    await place_call(engine.originator, SimulatedCaller(
        caller_number=VIP, caller_name="Li Na", dialled_number="180", stay=15))
    await desk.wait_for_selector("#pop table.history", timeout=10_000)
    first = await desk.inner_text("#pop table.history tbody tr")
    assert "talk" in first and "complaint taken" in first and "to an agent" in first
    await desk.screenshot(path=str(SCREENSHOTS / "desk-screen-pop.png"), full_page=True)
    assert [e["what"] for e in audit[:4]] == ["wrap_up_done", "disposition", "go_ready",
                                              "log_in"]
    assert all(e["who"] == "zhou" and e["from"] == "127.0.0.1" for e in audit[:4])


async def test_the_desk_speaks_the_browsers_language_when_the_yaml_offers_it(
        engine: Engine, web: WebProcess, browser: Browser,
        accounts: AccountStore) -> None:
    await person(accounts, "wu", Role.AGENT, "1002")
    desk = await logged_in(browser, web, "wu", language="zh-CN")
    assert "坐席工作台" in await desk.inner_text("h1")
    assert await state_of(desk) == "已签出"


async def test_an_agent_cannot_move_another_agent_nor_post_without_the_token(
        engine: Engine, web: WebProcess, browser: Browser,
        accounts: AccountStore) -> None:
    await person(accounts, "zhou", Role.AGENT, "1001")
    desk = await logged_in(browser, web, "zhou")
    csrf = await desk.get_attribute("#state input[name=csrf]", "value")
    assert csrf
    other = await desk.request.post(f"{web.url}/agents/1002/state",
                                    form={"csrf": csrf, "move": "log_in"})
    assert other.status == 403
    assert (await engine.routing.agent("1002")).get("state", "logged_out") == "logged_out"
    no_token = await desk.request.post(f"{web.url}/agents/1001/state",
                                       form={"move": "log_in"})
    assert no_token.status == 403
    assert "reload the page" in await no_token.text()
    assert (await engine.routing.agent("1001")).get("state", "logged_out") == "logged_out"
    own = await desk.request.post(f"{web.url}/agents/1001/state",
                                  form={"csrf": csrf, "move": "log_in"}, max_redirects=0)
    assert own.status == 303
    assert (await engine.routing.agent("1001"))["state"] == "not_ready"
    wallboard = await desk.request.get(f"{web.url}/wallboard")
    assert wallboard.status == 403


async def test_logins_are_throttled_and_never_say_which_half_was_wrong(
        engine: Engine, web: WebProcess, browser: Browser,
        accounts: AccountStore) -> None:
    await person(accounts, "zhou", Role.AGENT, "1001")
    page = await (await browser.new_context()).new_page()
    started = time.monotonic()
    for name in ["nobody", "zhou", "zhou", "zhou", "zhou", "zhou"]:
        await page.goto(f"{web.url}/login")
        await page.fill("input[name=username]", name)
        await page.fill("input[name=password]", "not the password")
        await page.click("form.login button[type=submit]")
        assert await page.inner_text(".error") == "wrong username or password"
    assert time.monotonic() - started < 20
    page_now = await logged_in(browser, web, "zhou")  # the right password, too late
    assert "/login" in page_now.url
    assert "too many failed logins" in await page_now.inner_text(".error")
    trail = await accounts.audit_trail()
    failed = [e for e in trail if e["what"] == "login failed"]
    assert [e["detail"] for e in failed] == ["throttled"] + [""] * 6
    assert "failed login as 'zhou'" in web.log()

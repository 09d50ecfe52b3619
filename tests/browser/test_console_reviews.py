"""The monthly quality review in the console: the engine picks each agent's calls of a
month (the same pick again for the same month and key, 10 per agent with enough calls),
a supervisor scores one in the page, and it appears in the month's report beside the
customer's survey grade; an agent is refused the review pages."""

from __future__ import annotations

import time
import zoneinfo

import pytest
from playwright.async_api import Browser
from redis.asyncio import Redis

from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.settings import Settings
from quality.review import month_bounds
from quality.sampling import ServedCall
from quality.survey_jobs import SurveyJobs
from tests.browser.conftest import SCREENSHOTS, logged_in, person
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]

MONTH = "2026-10"


async def file_calls(engine: Engine, agent: str, count: int, start: float,
                     first: int = 0) -> None:
    """Recordings of answered calls, indexed as the engine files them at a hangup."""
    for n in range(first, first + count):
        ended = start + 3600 * (n + 1)
        await engine.recordings.store(f"{agent}-call-{n}", {
            "call_id": f"{agent}-call-{n}", "caller_number": f"1390000{n:04d}",
            "queue": "talk", "agent": agent, "started": str(int((ended - 60) * 1000)),
            "answered": str(int((ended - 60) * 1000)), "ended": str(int(ended * 1000)),
            "queue_joined": f"{ended - 50:.3f}", "agent_answered": f"{ended - 40:.3f}",
            "duration": "60.0", "outcome": "to an agent from queue talk"}, None, [], [])


async def test_the_monthly_pick_a_scored_review_and_the_report(
        engine: Engine, web: WebProcess, browser: Browser, accounts: AccountStore,
        settings: Settings, redis: Redis) -> None:
    start, _ = month_bounds(MONTH, zoneinfo.ZoneInfo("Asia/Shanghai"))
    await file_calls(engine, "1001", 14, start)
    await file_calls(engine, "1002", 6, start)
    picked = await engine.reviews.pick_month(MONTH)
    assert {a: len(c) for a, c in picked.items()} == {"1001": 10, "1002": 6}
    await file_calls(engine, "1002", 9, start + 86400 * 10, first=6)  # late: the pick stays
    assert await engine.reviews.pick_month(MONTH) == picked
    # The same month and key pick the same calls, whoever picks: a fresh store.
    await redis.delete(engine.reviews.store.month_key(MONTH))
    again = await engine.reviews.pick_month(MONTH)
    assert again["1001"] == picked["1001"] and len(again["1002"]) == 10

    reviewed = again["1001"][0]
    jobs = SurveyJobs(redis, settings.key_prefix)
    await jobs.schedule(ServedCall(reviewed, "13900000000", "talk", "1001", time.time()),
                        time.time())
    await jobs.answered(reviewed, 2, time.time())

    await person(accounts, "sue", Role.SUPERVISOR)
    page = await logged_in(browser, web, "sue")
    await page.goto(f"{web.url}/reviews?month={MONTH}")
    assert await page.inner_text("tr[data-agent='1001'] .progress") == "0/10"
    await page.click(f"a[href='/reviews/{reviewed}']")
    for criterion, mark in (("accuracy", "5"), ("ownership", "4"), ("initiative", "3"),
                            ("satisfaction", "2")):
        await page.check(f"fieldset[data-criterion='{criterion}'] input[value='{mark}']")
    await page.fill("textarea[name=comment]", "right answer, but no offer of the new plan")
    await page.screenshot(path=str(SCREENSHOTS / "review.png"), full_page=True)
    await page.click("form.review button[type=submit]")
    await page.wait_for_url(f"**/reviews?month={MONTH}")
    assert await page.inner_text("tr[data-agent='1001'] .progress") == "1/10"

    await page.goto(f"{web.url}/reviews/report?month={MONTH}")
    row = "tr[data-agent='1001']"
    assert await page.inner_text(f"{row} .reviewed") == "1/10"
    # The form's four criteria weigh the same here: (4 + 3 + 2 + 1) / (4 · 4) = 62.5%.
    assert await page.inner_text(f"{row} .score") == "62.5%"
    assert await page.inner_text(f"{row} td[data-criterion='accuracy']") == "5.0"
    assert await page.inner_text(f"{row} .survey") == "2.0"
    stored = (await engine.reviews.store.reviews([reviewed]))[reviewed]
    assert stored["reviewer"] == "sue" and stored["agent"] == "1001"
    assert int(await redis.ttl(engine.reviews.store.review_key(reviewed))) > 0
    assert (await accounts.audit_trail())[0]["what"] == "call reviewed"

    refused = await page.request.post(f"{web.url}/reviews/{reviewed}", form={
        "csrf": await page.get_attribute("input[name=csrf]", "value") or "",
        "accuracy": "9"})
    assert refused.status == 400
    not_picked = await page.request.get(f"{web.url}/reviews/1002-call-999")
    assert not_picked.status == 404
    await person(accounts, "zhou", Role.AGENT, "1001")
    agent = await logged_in(browser, web, "zhou")
    for path in ("/reviews", f"/reviews/{reviewed}", "/reviews/report", "/surveys"):
        assert (await agent.request.get(f"{web.url}{path}")).status == 403, path

"""Survey results in the supervisor's console: the same report as `hotline surveys
report`, and a low grade's spoken comment played from the page."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest
from playwright.async_api import Browser
from redis.asyncio import Redis

from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.settings import Settings
from quality.sampling import ServedCall
from quality.survey_jobs import SurveyJobs
from tests.browser.conftest import logged_in, person
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]


async def test_the_survey_page_says_what_the_cli_says_and_plays_a_low_grades_comment(
        engine: Engine, web: WebProcess, browser: Browser, accounts: AccountStore,
        settings: Settings, redis: Redis) -> None:
    jobs = SurveyJobs(redis, settings.key_prefix)
    now = time.time()
    comment = settings.recordings_dir / "survey-comments" / "c2.wav"
    comment.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(comment), "synth", "1.5",
                    "sine", "440"], check=True)
    for n, (agent, grade) in enumerate((("1001", 5), ("1001", 1), ("1002", None))):
        call = ServedCall(f"c{n + 1}", f"1390000000{n}", "talk", agent, now)
        assert await jobs.schedule(call, now)
        job = await jobs.job(call.call_id)
        assert job is not None
        await jobs.placed(job)
        if grade is not None:
            await jobs.answered(call.call_id, grade, now,
                                str(comment.relative_to(settings.recordings_dir))
                                if grade == 1 else "")

    await person(accounts, "sue", Role.SUPERVISOR)
    page = await logged_in(browser, web, "sue")
    await page.goto(f"{web.url}/surveys")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", "surveys", "report",
        env={**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
             "HOTLINE_KEY_PREFIX": settings.key_prefix,
             "HOTLINE_CONFIG": str(engine.settings.config_path)},
        stdout=asyncio.subprocess.PIPE)
    said = (await proc.communicate())[0].decode()
    assert "sampled 3, attempted 3 (100%), contacted 2 (67% of attempted)" in said, said
    rates = await page.inner_text("p.rates")
    assert "3" in rates and await page.inner_text("b.attempt") == "100%"
    assert await page.inner_text("b.contact") == "67%"
    agent = "section.by-agent tr[data-name='1001']"
    assert await page.inner_text(f"{agent} .answers") == "2"
    assert await page.inner_text(f"{agent} .average") == "3.00"
    assert "  1001           answers    2  average 3.00  satisfied 50%" in said

    low = page.locator("#low li")
    assert await low.count() == 1 and await low.get_attribute("data-call") == "c2"
    played = await page.request.get(f"{web.url}/surveys/c2/comment")
    assert played.status == 200 and await played.body() == comment.read_bytes()
    assert (await accounts.audit_trail())[0]["what"] == "survey comment played"
    assert (await page.request.get(f"{web.url}/surveys/c1/comment")).status == 404

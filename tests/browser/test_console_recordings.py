"""Recordings in the supervisor's console, against the whole product on the sandbox: a
top-up call's recording is found, plays and seeks in Chromium (Range answered 206), its
PIN's mute span is drawn where the index says, it is flagged with a reason, and an agent
is refused all of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser

from hotline.billing.redis_store import RedisBilling
from hotline.dev.simulated_callers import SimulatedCaller
from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from tests.browser.conftest import SCREENSHOTS, logged_in, person
from tests.integration.helpers import top_up_by_phone, until
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]

VOUCHER, PIN = "4539578763621486", "246810"


async def test_a_recording_is_found_played_seeked_flagged_and_kept_from_agents(
        hotline: Engine, web: WebProcess, browser: Browser, accounts: AccountStore) -> None:
    caller = SimulatedCaller(caller_number="13811110077", stay=90)
    billing = hotline.billing.backend(hotline.live.config)
    assert isinstance(billing, RedisBilling)
    await billing.open_account(caller.caller_number, 1000)
    await billing.issue_voucher(VOUCHER, PIN, 5000)
    call_id = await top_up_by_phone(hotline, caller, VOUCHER, PIN)
    entry = await until(lambda: hotline.recordings.entry(call_id), 20, "the recording is filed",
                        holds=lambda e: "path" in e)
    mutes = json.loads(entry["mutes"])
    assert len(mutes) == 1

    await person(accounts, "sue", Role.SUPERVISOR)
    page = await logged_in(browser, web, "sue")
    await page.goto(f"{web.url}/recordings?number={caller.caller_number}")
    assert await page.locator("table.recordings tbody tr").count() == 1
    await page.goto(f"{web.url}/recordings?number=13999999999")
    assert await page.locator("table.recordings tbody tr").count() == 0
    await page.goto(f"{web.url}/recordings?number={caller.caller_number}")
    await page.click(f"text={call_id}")
    await page.wait_for_url(f"**/recordings/{call_id}")

    muted = page.locator("figure.timeline rect.muted")
    assert await muted.count() == 1
    assert float(await muted.get_attribute("data-start") or -1) == pytest.approx(mutes[0][0],
                                                                                abs=0.01)
    assert float(await muted.get_attribute("data-end") or -1) == pytest.approx(mutes[0][1],
                                                                              abs=0.01)
    # Opening the page fetched nothing: a play is what the audit keeps.
    assert "recording played" not in [e["what"] for e in await accounts.audit_trail()]
    # The page's player reads the file and seeks in it (as a press of play would).
    duration = await page.evaluate("""() => new Promise((done, failed) => {
        const audio = document.querySelector("audio");
        const seek = () => { audio.currentTime = audio.duration / 2; };
        audio.addEventListener("seeked", () => done(audio.duration));
        audio.addEventListener("error", () => failed(String(audio.error && audio.error.code)));
        audio.addEventListener("loadedmetadata", seek, {once: true});
        audio.preload = "auto";
        audio.load();
        setTimeout(() => failed("no seek: state " + audio.readyState), 15000);
    })""")
    assert duration == pytest.approx(float(entry["duration"]), abs=0.2)
    await page.screenshot(path=str(SCREENSHOTS / "recording.png"), full_page=True)

    data = Path(entry["path"]).read_bytes()
    part = await page.request.get(f"{web.url}/recordings/{call_id}/audio",
                                  headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert await part.body() == data[100:200]

    await page.fill("form input[name=reason]", "customer disputes the top-up")
    await page.click("form button[type=submit] >> text=Flag")
    assert (await hotline.recordings.entry(call_id))["flagged"] == \
        "customer disputes the top-up"
    await page.click("text=Unflag")
    assert "flagged" not in await hotline.recordings.entry(call_id)
    trail = [(e["what"], e["target"]) for e in await accounts.audit_trail()]
    assert ("recording played", f"recording {call_id}") in trail
    assert trail[0] == ("recording unflagged", f"call {call_id}")

    await person(accounts, "zhou", Role.AGENT, "1001")
    agent = await logged_in(browser, web, "zhou")
    for path in ("/recordings", f"/recordings/{call_id}", f"/recordings/{call_id}/audio"):
        assert (await agent.request.get(f"{web.url}{path}")).status == 403, path

"""Listening in from the wallboard, against the sandbox: a whisper rings the supervisor's
SIP phone (SIPp, speaking a 1 kHz tone), the agent hears it and the caller does not (sox
on what each of them heard), and ending it leaves their call as it was. A caller typing
a PIN cannot be listened to."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from hotline.dev.local_redis import free_port
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.dev.web_process import WebProcess
from hotline.settings import Settings
from quality.coaching_store import CoachingStore
from tests.browser.conftest import logged_in, person
from tests.integration.helpers import Phone, agents_ready, engine_for, talk_and_wait_hotline, until
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]

SIPP = Path(__file__).resolve().parents[1] / "data" / "sipp"
CALLER_VOICE, SUPERVISOR_VOICE = "440", "1000"  # Hz


def listen_hotline() -> str:
    """"180" reaches agent 1001 (who keeps what they hear); "185", or 5 in the main
    menu, asks for a PIN."""
    text = talk_and_wait_hotline(
        '  "1001": {name: Zhou Min, endpoint: Local/1001@sim-agent-hearing, '
        "skills: {talk: 5}}\n")
    return (text.replace('    "184": to_wait\n', '    "184": to_wait\n    "185": pin\n')
            .replace("    text: {zh: 按0人工服务。}\n",
                     "    text: {zh: 按0人工服务。}\n  pin_prompt:\n    text: {zh: 请输入密码。}\n")
            .replace('keys: {"0": to_wait}', 'keys: {"0": to_wait, "5": pin}')
            .replace("  to_talk: {kind: queue, queue: talk}\n",
                     "  to_talk: {kind: queue, queue: talk}\n"
                     "  pin: {kind: collect, prompt: pin_prompt, store_as: pin, "
                     "sensitive: true, timeout: 20s, retries: 0, next: main}\n"))


@pytest.fixture
def supervisor_phone(tmp_path: Path) -> Iterator[str]:
    """A SIPp softphone that answers and speaks a tone; its dial string."""
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", str(tmp_path / "tone.ul"),
                    "synth", "60", "sine", SUPERVISOR_VOICE, "vol", "0.5"], check=True)
    port = free_port()
    phone = subprocess.Popen(
        ["sipp", "-sf", str(SIPP / "supervisor.xml"), "-i", "127.0.0.1", "-p", str(port),
         "-mp", str(free_port()), "-m", "1", "-nostdin"],
        cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    yield f"PJSIP/trunk/sip:supervisor@127.0.0.1:{port}"
    phone.terminate()
    phone.wait(5)


def band_rms(wav: Path, low: int, high: int) -> float:
    """The RMS amplitude (0..1) of what the file holds between `low` and `high` Hz."""
    done = subprocess.run(["sox", str(wav), "-n", "sinc", f"{low}-{high}", "stat"],
                          capture_output=True, text=True, check=True)
    found = re.search(r"RMS\s+amplitude:\s+([0-9.]+)", done.stderr)
    assert found, done.stderr
    return float(found.group(1))


async def test_a_whisper_reaches_the_agent_and_not_the_caller(
        browser: Browser, web: WebProcess, accounts: AccountStore, redis: Redis,
        settings: Settings, tmp_path: Path, supervisor_phone: str) -> None:
    engine, _ = await engine_for(settings, redis, listen_hotline(), tmp_path)
    recordings = Path(settings.recordings_dir)
    started = time.time()
    try:
        await accounts.add("lin", Role.SUPERVISOR, "correct horse battery", name="Lin",
                           phone=supervisor_phone)
        await agents_ready(engine, "1001")
        heard = f"caller-heard-{time.time_ns()}"
        caller = SimulatedCaller(caller_number="13900000042", dialled_number="180", stay=40,
                                 voice=CALLER_VOICE, heard=heard)
        call_id = await place_call(engine.originator, caller)
        await until(lambda: engine.routing.call(call_id), 20, "the agent answers",
                    holds=lambda call: call.get("state") == "connected")

        page = await logged_in(browser, web, "lin")
        await page.goto(f"{web.url}/wallboard")
        row = page.locator('tr.agent[data-agent="1001"]')
        await expect(row.locator("td.call")).to_have_text(call_id, timeout=10_000)
        await row.locator("button[value=whisper]").click()
        await page.wait_for_url(re.compile(r"/listen/[0-9a-f]{16}$"))
        state = page.locator("table.listen-session")
        assert await state.get_attribute("data-state") != "refused", await state.inner_text()
        await expect(state).to_have_attribute("data-state", "on", timeout=15_000)
        await asyncio.sleep(3)  # the supervisor coaches the agent
        await page.click("button.end")
        await expect(state).to_have_attribute("data-state", "ended", timeout=10_000)
        await expect(state).to_contain_text("监听时长")  # how long: the page is in Chinese

        # Ending it disturbed nobody: the caller is still with the agent.
        assert (await engine.routing.call(call_id))["state"] == "connected"
        channels = await engine.ami.send_action({"Action": "CoreShowChannels"})
        names = [e.get("Channel", "") for e in channels.events]
        assert any(n.startswith("Local/1001@sim-agent-hearing") for n in names), names
        assert not any(n.startswith("PJSIP/trunk") for n in names), names

        # Who listened, to which call, how and how long: in the listen-in log.
        logged = (await CoachingStore(redis, settings.key_prefix).log())[0]
        assert (logged["who"], logged["call"], logged["agent"], logged["mode"]) == \
            ("lin", call_id, "1001", "whisper")
        assert 2.0 <= float(logged["seconds"]) <= 20.0, logged

        await Phone(engine, call_id).hang_up()  # the recordings close with the call
        await asyncio.sleep(1.5)
    finally:
        await engine.stop()

    heard_by_agent = max((f for f in recordings.glob("heard-by-1001-*.wav")
                          if not f.stem.endswith("-said") and f.stat().st_mtime >= started),
                         key=lambda f: f.stat().st_mtime)
    heard_by_caller = recordings / f"{heard}.wav"
    # The agent heard the caller, and the supervisor; the caller heard no supervisor.
    assert band_rms(heard_by_agent, 400, 480) > 0.05
    assert band_rms(heard_by_agent, 950, 1050) > 0.05
    assert band_rms(heard_by_caller, 950, 1050) < 0.005


async def test_nobody_listens_to_a_caller_typing_a_pin(
        browser: Browser, web: WebProcess, accounts: AccountStore, redis: Redis,
        settings: Settings, tmp_path: Path, supervisor_phone: str) -> None:
    engine, _ = await engine_for(settings, redis, listen_hotline(), tmp_path)
    try:
        await accounts.add("lin", Role.SUPERVISOR, "correct horse battery", name="Lin",
                           phone=supervisor_phone)
        await person(accounts, "zhou", Role.AGENT, "1001")
        call_id = await place_call(engine.originator, SimulatedCaller(stay=60))
        phone = Phone(engine, call_id)
        menu = await phone.listening("zh/menu")
        coaching = CoachingStore(redis, settings.key_prefix)

        # Listening to a caller in the menus...
        page = await logged_in(browser, web, "lin")
        await page.goto(f"{web.url}/wallboard")
        await page.fill("form.listen-by-call input[name=call]", call_id)
        await page.click("form.listen-by-call button[type=submit]")  # listen: the default
        state = page.locator("table.listen-session")
        await expect(state).to_have_attribute("data-state", "on", timeout=15_000)
        # ...is cut off when the caller is asked for their PIN.
        await asyncio.sleep(0.3)
        await phone.press("5")
        await phone.taken(menu)
        await phone.listening("zh/pin_prompt")
        await page.reload()
        await expect(state).to_have_attribute("data-state", "ended", timeout=10_000)
        logged = (await coaching.log())[0]
        assert (logged["who"], logged["call"], logged["mode"], logged["how"]) == \
            ("lin", call_id, "listen", "cut off: the caller typed a secret")
        channels = await engine.ami.send_action({"Action": "CoreShowChannels"})
        assert not any(e.get("Channel", "").startswith("PJSIP/trunk") for e in channels.events)

        # And at the PIN, even a barge is refused: the phone does not ring.
        await page.goto(f"{web.url}/wallboard")
        await page.fill("form.listen-by-call input[name=call]", call_id)
        await page.select_option("form.listen-by-call select[name=mode]", "barge")
        await page.click("form.listen-by-call button[type=submit]")
        await expect(state).to_have_attribute("data-state", "refused", timeout=10_000)
        await expect(state).to_contain_text("PIN")
        logged = (await coaching.log())[0]
        assert (logged["call"], logged["mode"], logged["how"]) == \
            (call_id, "barge", "refused: secret")
        refused = await coaching.session(page.url.rsplit("/", 1)[1])
        assert refused["state"] == "refused" and not refused.get("channel")

        # The log page shows both, newest first.
        await page.goto(f"{web.url}/listen")
        rows = page.locator("table.listen-log tbody tr")
        await expect(rows.nth(0).locator("td.how")).to_have_text("refused: secret")
        await expect(rows.nth(1).locator("td.how")).to_have_text(
            "cut off: the caller typed a secret")

        # An agent may not listen in at all.
        agent = await logged_in(browser, web, "zhou")
        csrf = await agent.locator("input[name=csrf]").first.get_attribute("value")
        answer = await agent.request.post(f"{web.url}/calls/{call_id}/listen",
                                          form={"csrf": csrf or "", "mode": "listen"})
        assert answer.status == 403
    finally:
        await engine.stop()

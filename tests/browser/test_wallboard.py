"""The wallboard in Chromium, against a real engine, the sandbox and Redis: a caller
joining shows within a second, the service level moves when the call is answered, a
supervisor forces an agent out with an audited reason, and /metrics says what
`hotline queues stats` says."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest
from playwright.async_api import Browser
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from agents.state import Move
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from hotline.settings import Settings
from tests.browser.conftest import SCREENSHOTS, logged_in, person
from tests.integration.helpers import until
from web.account_store import AccountStore
from web.accounts import Role

pytestmark = [pytest.mark.asterisk, pytest.mark.redis, pytest.mark.browser]

WAIT_ROW = "tr[data-queue=wait][data-tier=all]"


def cell_is(selector: str, text: str) -> str:
    """A page function: the time (ms) at which `selector` first reads `text`."""
    return (f"() => {{ const c = document.querySelector({selector!r});"
            f" return c && c.textContent.startsWith({text!r}) ? Date.now() : false; }}")


async def queues_stats(settings: Settings) -> dict[str, tuple[int, int, int]]:
    """`hotline queues stats` as a supervisor runs it: (offered, answered, abandoned)
    per "queue / tier" row."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", "queues", "stats",
        env={**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
             "HOTLINE_KEY_PREFIX": settings.key_prefix},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    rows = {}
    for line in out.decode().splitlines():
        words = line.split()
        if len(words) >= 6 and words[1] == "/":
            rows[f"{words[0]} / {words[2]}"] = (int(words[3]), int(words[4]),
                                                int(words[5].split("(")[0]))
    return rows


async def test_the_wallboard_follows_the_floor_live(
        engine: Engine, web: WebProcess, browser: Browser, accounts: AccountStore,
        settings: Settings, redis: Redis) -> None:
    await person(accounts, "sue", Role.SUPERVISOR)
    board = await logged_in(browser, web, "sue")
    assert board.url.endswith("/wallboard")
    assert await board.inner_text(f"{WAIT_ROW} .waiting") == "0"
    # The page's stream is open before the caller comes (its first message is in).
    await board.wait_for_function("() => document.body.dataset.updates >= 1")

    await place_call(engine.originator, SimulatedCaller(
        caller_number="13800000009", dialled_number="184", stay=30))
    seen = await (await board.wait_for_function(cell_is(f"{WAIT_ROW} .waiting", "1"),
                                                timeout=10_000)).json_value()
    floor = engine.routing.keys.floor
    joined = [entry_id for entry_id, fields in await redis.xrange(floor)
              if fields.get("q") == "wait"]
    assert joined, "the join wrote no change to the floor's stream"
    delay_ms = seen - int(joined[0].split("-")[0])
    assert 0 <= delay_ms < 1000, f"the wallboard showed the caller {delay_ms} ms after the join"
    assert "wait" in await board.inner_text("#waiters")

    # An agent for the line logs in from the phone: the call is answered, in the SL.
    assert await board.inner_text(f"{WAIT_ROW} .sl") == "–"
    for move in (Move.LOG_IN, Move.GO_READY):
        await engine.routing.apply("1002", move, time.time())
    await board.wait_for_function(cell_is(f"{WAIT_ROW} .answered", "1"), timeout=10_000)
    await board.wait_for_function(cell_is(f"{WAIT_ROW} .sl", "100%"), timeout=5_000)
    assert await board.inner_text(f"{WAIT_ROW} .waiting") == "0"
    await board.screenshot(path=str(SCREENSHOTS / "wallboard.png"), full_page=True)

    # The agent wraps up; the supervisor takes them out for lunch, from the wallboard.
    row = "tr[data-agent='1002']"
    await board.wait_for_function(cell_is(f"{row} td.state", "Wrap-up"), timeout=15_000)
    await board.select_option(f"{row} select[name=move]", "not_ready")
    await board.select_option(f"{row} select[name=reason]", "2")
    await board.click(f"{row} form.force button[type=submit]")
    await board.wait_for_function(cell_is(f"{row} td.state", "Not ready (lunch (by sue))"),
                                  timeout=5_000)
    agent = await engine.routing.agent("1002")
    assert (agent["state"], agent["reason"]) == ("not_ready", "lunch (by sue)")
    forced = (await accounts.audit_trail())[0]
    assert (forced["who"], forced["what"], forced["target"]) == ("sue", "go_not_ready",
                                                                 "agent 1002")
    assert "lunch" in forced["detail"]

    for path, said in (("/healthz", "ok\n"), ("/readyz", "ready\n")):
        answer = await board.request.get(f"{web.url}{path}")
        assert (answer.status, await answer.text()) == (200, said)

    # /metrics: prometheus-client's own parser reads it, and it agrees with the CLI.
    metrics = await board.request.get(f"{web.url}/metrics")
    assert metrics.status == 200
    families = {f.name: f for f in text_string_to_metric_families(await metrics.text())}
    stats = await until(lambda: queues_stats(settings), 10, "the call counted as answered",
                        holds=lambda rows: rows.get("wait / all", (0, 0, 0))[1] == 1)
    for name, column in (("hotline_calls_offered", 0), ("hotline_calls_answered", 1),
                         ("hotline_calls_abandoned", 2)):
        samples = {f"{s.labels['queue']} / {s.labels['tier']}": int(s.value)
                   for s in families[name].samples if s.name.endswith("_total")}
        assert samples["wait / all"] == stats["wait / all"][column]
        assert all(samples[row] == figures[column] for row, figures in stats.items())
    waiting = {s.labels["queue"]: s.value
               for s in families["hotline_callers_waiting"].samples if s.labels["tier"] == "all"}
    assert waiting["wait"] == 0
    agents = {s.labels["state"]: s.value for s in families["hotline_agents"].samples}
    assert agents["not_ready"] == 1

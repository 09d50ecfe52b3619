"""Two `hotline serve` processes on one Redis and one Asterisk: every caller reaches
exactly one agent, and no agent ever has two callers at once, across 200 calls."""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from agents.state import AgentState, Move
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.dev.web_process import WebProcess
from hotline.engine import Engine
from pbx.ami_codec import Message
from routing.store import RoutingStore
from tests.integration.helpers import until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

CALLS = 200
AGENTS = 20
PREFIX = "two-engines:"
_AGENT = re.compile(r"Local/(\d+)@sim-agent")


def hotline_yaml() -> str:
    agents = "".join(f'  "{3000 + n}": {{name: Agent {n}, endpoint: Local/{3000 + n}@sim-agent, '
                     f"skills: {{billing: {5 + n % 5}}}, wrap_up: 0s}}\n" for n in range(AGENTS))
    text = (Path(__file__).resolve().parents[1] / "data" / "config" / "routing.yaml").read_text()
    head, _, rest = text.partition("agents:\n")
    _, _, tail = rest.partition("queues:\n")
    return f"{head}agents:\n{agents}queues:\n{tail}"


def agent_calls(events: list[tuple[float, Message]]) -> dict[str, list[tuple[float, float]]]:
    """Each agent's calls: from its phone ringing to its line hanging up."""
    began: dict[str, tuple[str, float]] = {}
    calls: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for at, m in events:
        if m.get("Event") == "DialBegin" and (found := _AGENT.search(m.get("DestChannel", ""))):
            began[m["DestChannel"]] = (found.group(1), at)
        elif m.get("Event") == "Hangup" and m.get("Channel") in began:
            agent, start = began.pop(m["Channel"])
            calls[agent].append((start, at))
    return calls


async def test_two_engine_processes_never_double_book(
        asterisk: sandbox.SandboxInstance, redis_server: LocalRedis, redis: Redis,
        engine: Engine, tmp_path: Path) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(hotline_yaml())
    engine.calls.accepting = False  # the fixture's engine only watches and places calls
    events: list[tuple[float, Message]] = []
    engine.ami.add_raw_listener(lambda m: events.append((time.monotonic(), m)))
    base = sandbox.serve_environment(asterisk, redis_server.url, PREFIX, config)
    web = await WebProcess(redis_server.url, PREFIX, tmp_path / "web.log").start()
    procs = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", "serve",
        env={**base, "HOTLINE_INSTANCE_ID": f"engine-{name}"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        for name in ("a", "b")]
    try:
        await until(lambda: asyncio.to_thread(asterisk.cli, "manager show connected"), 30,
                    "the two engines log in to AMI",
                    holds=lambda sessions: sessions.count(f"{asterisk.ami.username} ") >= 3)
        store = RoutingStore(redis, PREFIX)
        for n in range(AGENTS):
            await store.apply(str(3000 + n), Move.LOG_IN, time.time())
            await store.apply(str(3000 + n), Move.GO_READY, time.time())
        call_ids = []
        for n in range(CALLS):  # 5 calls a second, each talks 3 s with its agent
            call_ids.append(await place_call(engine.originator, SimulatedCaller(
                caller_number=f"1370000{n:04d}", dialled_number="180", stay=60)))
            await asyncio.sleep(0.2)  # callers arrive at 5 a second, as people would

        def answers() -> dict[str, list[str]]:
            by_call: dict[str, list[str]] = defaultdict(list)
            for _, m in events:
                if m.get("Event") == "DialEnd" and m.get("DialStatus") == "ANSWER" \
                        and m.get("Uniqueid") in call_ids:
                    by_call[m["Uniqueid"]].append(m.get("DestChannel", ""))
            return by_call

        answered = await until(answers, 90, f"all {CALLS} callers are answered",
                               holds=lambda by_call: len(by_call) >= CALLS)
        # The last conversations are still going on: the engines see them end.
        calls = await until(lambda: agent_calls(events), 15,
                            f"all {CALLS} conversations end",
                            holds=lambda calls: sum(len(c) for c in calls.values()) >= CALLS)
        # Every agent is free again: none is left on a call that ended.
        await until(lambda: asyncio.gather(*(store.agent_state(str(3000 + n))
                                             for n in range(AGENTS))), 10,
                    "every agent ready again",
                    holds=lambda states: all(s is AgentState.READY for s in states))
        # The web side's counters are the hotline's, counted once across the engines.
        metrics = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"{web.url}/metrics", timeout=10).read().decode())
        answered_total = sum(
            s.value for f in text_string_to_metric_families(metrics)
            if f.name == "hotline_calls_answered" for s in f.samples
            if s.name.endswith("_total") and s.labels["tier"] == "all")
    finally:
        for proc in procs:
            proc.terminate()
        await asyncio.gather(*(proc.wait() for proc in procs))
        await web.stop()
    assert answered_total == CALLS
    assert web.tracebacks() == 0, web.log()

    # Every caller was answered by exactly one agent.
    assert all(len(agents) == 1 for agents in answered.values())
    # No agent's phone rang for a second caller while busy with one: per agent, each
    # call (from its phone ringing to its line hanging up) ends before the next begins.
    for agent, spans in calls.items():
        spans.sort()
        overlapping = [(a, b) for a, b in itertools.pairwise(spans) if a[1] > b[0]]
        assert not overlapping, (agent, overlapping)
    # Both engines served callers (each lease id is the engine's name and a part of its own).
    owners = {(await redis.get(f"{PREFIX}call:{{{c}}}:owner") or "").rsplit("-", 1)[0]
              for c in call_ids}
    assert owners == {"engine-a", "engine-b"}

"""Agents on real SIP softphones (SIPp) registered to the sandbox's PJSIP: feature codes
dialled from the phone, ring-no-answer, and presence when the phone goes away."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import AgentState, Move
from hotline.dev import sandbox
from hotline.dev.local_redis import free_port
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from pbx.pjsip_agents import phone_password
from tests.integration.helpers import engine_for, until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

DATA = Path(__file__).resolve().parents[1] / "data"
SIPP = DATA / "sipp"
PHONE = "agent-1001"
CONFIG = (DATA / "config" / "live_queue.yaml").read_text().replace(
    '''  "1001":
    name: Zhou Min
    endpoint: Local/1001@sim-agent
    skills: {billing: 5}
''', f'''  "1001":
    name: Zhou Min
    endpoint: PJSIP/{PHONE}
    skills: {{billing: 9}}
  "1002":
    name: Wu Lei
    endpoint: Local/1002@sim-agent
    skills: {{billing: 8}}
    wrap_up: 0s
''').replace("    name: Billing\n", "    name: Billing\n    ring_timeout: 2s\n")


class Softphone:
    """Agent 1001's phone: a SIPp that takes calls (ringing, never answered) on one
    port, and SIPp runs that register it, unregister it and dial feature codes."""

    def __init__(self, box: sandbox.SandboxInstance, takes_calls: list[str] | None = None) -> None:
        self.box = box
        self.password = ""  # derived by the engine from its secret key
        self.port = free_port()
        scenario = takes_calls or ["-sf", str(SIPP / "ringing.xml")]
        self.ringer = subprocess.Popen(
            ["sipp", *scenario, "-i", "127.0.0.1", "-p", str(self.port), "-aa", "-nostdin"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def _run(self, scenario: str, *args: str) -> None:
        proc = subprocess.run(
            ["sipp", "-sf", str(SIPP / scenario), "-i", "127.0.0.1", "-p", str(free_port()),
             "-m", "1", "-au", PHONE, "-ap", self.password, "-nostdin", "-timeout", "15s",
             "-timeout_error", *args, f"127.0.0.1:{self.box.sip_port}"],
            capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]

    def register(self, expires: int = 300) -> None:
        self._run("register.xml", "-s", PHONE, "-key", "contact_port", str(self.port),
                  "-key", "expires", str(expires))

    def dial(self, code: str) -> None:
        self._run("dial_code.xml", "-s", code, "-key", "agent", PHONE, "-mp", str(free_port()))

    def close(self) -> None:
        self.ringer.terminate()
        self.ringer.wait(timeout=10)


@pytest.fixture
def phones_settings(settings: Settings, asterisk: sandbox.SandboxInstance,
                    tmp_path: Path) -> Settings:
    etc = Path(str(asterisk.state["instance_dir"])) / "etc"
    return replace(settings, pjsip_agents_file=etc / "pjsip_agents.conf",
                   queue_log=tmp_path / "queue_log")


@pytest.fixture
def phone(asterisk: sandbox.SandboxInstance) -> Iterator[Softphone]:
    softphone = Softphone(asterisk)
    yield softphone
    softphone.close()


async def phone_ready(engine: Engine, phone: Softphone, asterisk: sandbox.SandboxInstance,
                      *also: str) -> None:
    """Agent 1001 registered and ready from the phone's keypad; `also` ready from the
    store."""
    phone.password = phone_password(engine.phones.secret_key, PHONE)
    await until(lambda: asyncio.to_thread(asterisk.cli, "pjsip show endpoints"), 10,
                f"{PHONE} is an endpoint", holds=lambda endpoints: PHONE in endpoints)
    await asyncio.to_thread(phone.register)
    await asyncio.to_thread(phone.dial, "*1")
    await agent(engine, "1001", AgentState.NOT_READY)
    await asyncio.to_thread(phone.dial, "*3")
    await agent(engine, "1001", AgentState.READY)
    for agent_id in also:
        await engine.routing.apply(agent_id, Move.LOG_IN, time.time())
        await engine.routing.apply(agent_id, Move.GO_READY, time.time())


async def agent(engine: Engine, agent_id: str, state: AgentState,
                timeout: float = 10) -> dict[str, str]:
    return await until(lambda: engine.routing.agent(agent_id), timeout,
                       f"agent {agent_id} is {state.value}",
                       holds=lambda fields: fields.get("state") == state.value)


async def test_an_agent_on_a_sip_softphone(
        phones_settings: Settings, redis: Redis, tmp_path: Path,
        asterisk: sandbox.SandboxInstance, phone: Softphone) -> None:
    engine, tap = await engine_for(phones_settings, redis, CONFIG, tmp_path)
    try:
        # The engine wrote the agents' endpoints and had PJSIP reload them; the agent
        # logs in and goes ready from the phone's keypad.
        await phone_ready(engine, phone, asterisk, "1002")
        await asyncio.to_thread(phone.dial, "*47")  # no reason 7: refused, nothing changes
        assert (await engine.routing.agent("1001"))["state"] == AgentState.READY.value

        # Ring, no answer on the real phone: 1001 (best proficiency) rings for 2 s, is set
        # not ready, and the caller is offered to 1002 at once.
        caller = SimulatedCaller(caller_number="13533330001", dialled_number="180", stay=40)
        call_id = await place_call(engine.originator, caller)
        missed = await tap.wait_for(lambda m: m.get("Event") == "DialEnd"
                                    and m.get("Uniqueid") == call_id
                                    and PHONE in m.get("DestChannel", ""), timeout=20)
        assert missed["DialStatus"] != "ANSWER"
        missed_at = time.monotonic()
        next_ring = await tap.wait_for(lambda m: m.get("Event") == "DialBegin"
                                       and m.get("Uniqueid") == call_id
                                       and "1002@sim-agent" in m.get("DestChannel", ""),
                                       timeout=5)
        assert next_ring and time.monotonic() - missed_at < 1.0
        fields = await agent(engine, "1001", AgentState.NOT_READY)
        assert fields["reason"] == "no answer"

        # Back at the desk: ready again. Then the phone is switched off (unregisters):
        # presence takes 1001 out, and a new caller is never offered to it.
        await asyncio.to_thread(phone.dial, "*3")
        await agent(engine, "1001", AgentState.READY)
        await asyncio.to_thread(phone.register, 0)
        fields = await agent(engine, "1001", AgentState.NOT_READY)
        assert fields["reason"] == "phone unreachable"
        await agent(engine, "1002", AgentState.READY, timeout=20)  # its first call is over
        second = SimulatedCaller(caller_number="13533330002", dialled_number="180", stay=20)
        second_id = await place_call(engine.originator, second)
        answered = await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                                      and m.get("Caller") == second.caller_number, timeout=20)
        assert answered["Agent"] == "1002"
        assert not [m for m in tap.events if m.get("Event") == "DialBegin"
                    and m.get("Uniqueid") == second_id and PHONE in m.get("DestChannel", "")]

        # The phone comes back: the agent the phone took out is ready again.
        await asyncio.to_thread(phone.register)
        await agent(engine, "1001", AgentState.READY)
        codes = [s for s in await engine.redis.keys(f"{phones_settings.key_prefix}call:*")
                 if s.endswith("}")]
        outcomes = [(await engine.call_log.record(k.split("{")[1][:-1])).get(
            "outcome", "") for k in codes]
        assert "agent 1001: *1 -> not_ready" in outcomes
        assert any(o.startswith("agent 1001: not ready needs a reason digit") for o in outcomes)
        await engine.queue_log.flushed()
        # The agent's day as a reporting tool reads it: logged in, ready, the missed ring.
        agent_lines = [line.split("|", 4)[4] for line in
                       (tmp_path / "queue_log").read_text().splitlines()
                       if "|Agent/1001|" in line]
        assert agent_lines[:2] == [f"AGENTLOGIN|PJSIP/{PHONE}", "UNPAUSEALL"]
        assert "RINGNOANSWER" in agent_lines[2] and agent_lines[3] == "PAUSEALL|no answer"
    finally:
        await engine.stop()


async def test_a_caller_who_hangs_up_while_the_phone_rings_is_an_abandon(
        phones_settings: Settings, redis: Redis, tmp_path: Path,
        asterisk: sandbox.SandboxInstance, phone: Softphone) -> None:
    config = CONFIG.replace("    ring_timeout: 2s\n", "    ring_timeout: 12s\n")
    engine, tap = await engine_for(phones_settings, redis, config, tmp_path)
    try:
        await phone_ready(engine, phone, asterisk)
        caller = SimulatedCaller(caller_number="13533330003", dialled_number="180",
                                 delay=1, stay=2)
        call_id = await place_call(engine.originator, caller)
        ended = await tap.wait_for(lambda m: m.get("Event") == "DialEnd"
                                   and m.get("Uniqueid") == call_id, timeout=20)
        assert ended["DialStatus"] == "CANCEL" and PHONE in ended["DestChannel"]
        # The agent did nothing wrong: ready again, and the call counts as abandoned.
        await agent(engine, "1001", AgentState.READY)
        await until(lambda: engine.routing.call(call_id), 5, "the caller left the line",
                    holds=lambda call: call.get("state") == "gone")
        figures = await until(lambda: engine.stats.figures(engine.stats.day(), "billing"), 5,
                              "the abandon is counted", holds=lambda f: f.abandoned == 1)
        assert figures.answered == 0
        assert "no answer" not in await engine.redis.lrange(
            engine.routing.keys.agent_log("1001"), -1, -1)
    finally:
        await engine.stop()


@pytest.mark.parametrize(("status", "reason"), [
    ("486", "busy on another call"),
    ("488", "phone refused the call: it takes none of the codecs offered (g722, ulaw, alaw); "
            "fix the phone, then register it again")])
async def test_a_phone_that_cannot_take_the_call_is_the_phone_s_problem(
        phones_settings: Settings, redis: Redis, tmp_path: Path,
        asterisk: sandbox.SandboxInstance, status: str, reason: str) -> None:
    scenario = tmp_path / "refusing.xml"
    scenario.write_text((SIPP / "refusing.xml").read_text().replace("STATUS", status))
    phone = Softphone(asterisk, ["-sf", str(scenario)])
    engine, tap = await engine_for(phones_settings, redis, CONFIG, tmp_path)
    try:
        await phone_ready(engine, phone, asterisk, "1002")
        caller = SimulatedCaller(caller_number="13533330004", dialled_number="180", stay=20)
        call_id = await place_call(engine.originator, caller)
        refused = await tap.wait_for(lambda m: m.get("Event") == "DialEnd"
                                     and m.get("Uniqueid") == call_id
                                     and PHONE in m.get("DestChannel", ""), timeout=20)
        assert refused["DialStatus"] != "ANSWER"
        # The caller is served at once by the next agent; 1001 is out with the phone's
        # reason, not the agent's no-answer.
        answered = await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                                      and m.get("Caller") == caller.caller_number, timeout=10)
        assert answered["Agent"] == "1002"
        # Agent 1001's history says why they were taken out. (A phone idle again at once,
        # as SIPp's is after its answer, brings them back: the state alone may already
        # read ready.)
        history = await until(
            lambda: engine.redis.lrange(engine.routing.keys.agent_log("1001"), 0, -1), 10,
            "agent 1001 is taken out with the phone's reason",
            holds=lambda moves: any(m.endswith(f"phone_trouble {reason}") for m in moves))
        assert not any(m.endswith("no answer") for m in history), history
    finally:
        await engine.stop()
        phone.close()

"""Agents on a real softphone, baresip, against the sandbox: TLS with SRTP from the
credentials `hotline agents phone` prints, answering on the auto-answer header alone,
a G.722-only phone, and a phone that refuses every codec the hotline offers."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from agents.state import AgentState, Move
from hotline.billing.redis_store import RedisBilling
from hotline.dev import sandbox
from hotline.dev.local_redis import free_port
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from pbx.pjsip_agents import phone_password
from tests.browser.test_console_listen import band_rms
from tests.conftest import EventTap
from tests.integration.baresip import Account, Baresip
from tests.integration.helpers import engine_for, until
from tests.integration.test_softphones import (
    CONFIG,
    PHONE,
    SIPP,
    agent,
    phones_settings,  # noqa: F401  (a fixture)
)

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

# One TLS port for the whole run: Asterisk keeps a TLS listener once it made it, and
# does not move it on a reload.
TLS_PORT = free_port()
CALLER_VOICE, AGENT_VOICE = 440, 1000  # Hz
VIP = "13911113333"


def hotline(box: sandbox.SandboxInstance, phone: str, stereo: bool = True) -> str:
    """CONFIG with agent 1001's `phone:` settings, the sandbox's TLS keys, and stereo
    recordings (the caller on the left, what they heard on the right) or mixed ones."""
    line = f"    endpoint: PJSIP/{PHONE}\n"
    assert line in CONFIG
    return (CONFIG.replace(line, line + f"    phone: {phone}\n")
            + f"recording:\n  format: {'stereo' if stereo else 'mixed'}\n"
            + "phones:\n  tls:\n"
            + f"    certificate: {box.state['tls_certificate']}\n"
            + f"    key: {box.state['tls_key']}\n"
            + f"    ca: {box.state['tls_ca']}\n"
            + f"    address: 127.0.0.1\n    port: {TLS_PORT}\n")


@pytest.fixture
def phones() -> Iterator[list[Baresip]]:
    started: list[Baresip] = []
    yield started
    for phone in started:
        phone.stop()


def sheet_of(config: Path, agent_id: str, server: str) -> dict[str, str]:
    """What `hotline agents phone --qr` prints, label by label (and that a QR code
    follows the sheet)."""
    printed = subprocess.run(
        [sys.executable, "-m", "hotline", "agents", "phone", agent_id, "--config", str(config),
         "--server", server, "--qr"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "HOTLINE_SECRET_KEY": "test-secret-key"})
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert sum("\u2588" in line for line in printed.stdout.splitlines()) > 10, printed.stdout
    rows = [re.split(r"\s{2,}", line.strip(), maxsplit=1)
            for line in printed.stdout.splitlines()[1:] if line.startswith("  ")]
    return {row[0]: row[1] for row in rows if len(row) == 2}


async def registered(box: sandbox.SandboxInstance, transport: str = "") -> None:
    await until(lambda: asyncio.to_thread(box.cli, f"pjsip show aor {PHONE}"), 15,
                f"{PHONE} is registered",
                holds=lambda aor: f"{PHONE}/sip:" in aor and transport in aor.lower())


def speaking_caller(box: sandbox.SandboxInstance, number: str,
                    workdir: Path) -> subprocess.Popen[bytes]:
    """A SIPp caller on the trunk who dials 180 and speaks CALLER_VOICE for 12 s."""
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-t", "ul", str(workdir / "tone.ul"),
                    "synth", "20", "sine", str(CALLER_VOICE), "vol", "0.5"], check=True)
    return subprocess.Popen(
        ["sipp", "-sf", str(SIPP / "speaking_caller.xml"), "-i", "127.0.0.1",
         "-p", str(free_port()), "-mp", str(free_port()), "-m", "1", "-s", "180",
         "-key", "caller", number, "-d", "12000", "-nostdin", "-timeout", "40s",
         "-timeout_error", f"127.0.0.1:{box.sip_port}"],
        cwd=workdir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


async def phone_idle(box: sandbox.SandboxInstance) -> None:
    await until(lambda: asyncio.to_thread(box.cli, "core show channels concise"), 15,
                f"{PHONE} has no call", holds=lambda channels: PHONE not in channels)


async def endpoint_loaded(box: sandbox.SandboxInstance, *settings: str) -> None:
    await until(lambda: asyncio.to_thread(box.cli, f"pjsip show endpoint {PHONE}"), 15,
                f"{PHONE} is loaded with {settings}",
                holds=lambda text: all(s in text for s in settings))


async def dial_ended(tap: EventTap, call_id: str) -> dict[str, str]:
    ended: dict[str, str] = await tap.wait_for(
        lambda m: m.get("Event") == "DialEnd" and m.get("Uniqueid") == call_id
        and PHONE in m.get("DestChannel", ""), timeout=20)
    return ended


async def recording(engine: Engine, call_id: str, keep: Path) -> dict[str, str]:
    """The index entry of the call's recording once filed, copied into `keep` as
    `call.wav`, and a stereo one's two sides split there too (`left.wav`, what the
    caller said; `right.wav`, what they heard)."""
    entry = await until(lambda: engine.recordings.entry(call_id), 30,
                        f"the recording of call {call_id} is indexed",
                        holds=lambda e: "sha256" in e)
    subprocess.run(["sox", entry["path"], str(keep / "call.wav")], check=True)
    channels = subprocess.run(["soxi", "-c", entry["path"]], capture_output=True, text=True,
                              check=True).stdout.strip()
    if channels == "2":
        for side, channel in (("left", "1"), ("right", "2")):
            subprocess.run(["sox", entry["path"], str(keep / f"{side}.wav"), "remix", channel],
                           check=True)
    return entry


def each_voice_on_its_side(keep: Path) -> None:
    """The caller's tone on the left (what they said) and not on the right, the agent's
    on the right (what the caller heard) and not on the left."""
    def band(side: str, hz: int) -> float:
        return band_rms(keep / f"{side}.wav", hz - 60, hz + 60)

    assert band("left", CALLER_VOICE) > 0.02 and band("right", AGENT_VOICE) > 0.02
    assert band("left", AGENT_VOICE) < 0.01 and band("right", CALLER_VOICE) < 0.01


async def last_call_listed(engine: Engine, config: Path, settings: Settings,
                           capsys: pytest.CaptureFixture[str]) -> str:
    from config.loader import load
    from hotline.cli.agents import agents_listing

    assert await agents_listing(load(config), settings) == 0
    out = capsys.readouterr().out
    return next(line for line in out.splitlines() if line.startswith("1001 "))


async def test_a_tls_srtp_phone_logs_in_from_its_keys_and_answers_on_the_header_alone(
        phones_settings: Settings, redis: Redis, tmp_path: Path,  # noqa: F811
        asterisk: sandbox.SandboxInstance, phones: list[Baresip],
        capsys: pytest.CaptureFixture[str]) -> None:
    config = hotline(asterisk, "{transport: tls, encryption: sdes, auto_answer: alert-info, "
                               "codecs: [ulaw, g722]}")
    engine, tap = await engine_for(phones_settings, redis, config, tmp_path)
    try:
        await RedisBilling(redis, phones_settings.key_prefix, phones_settings.secret_key
                           ).open_account(VIP, 50000, tier="gold", bill_fen=100,
                                          bill_due=dt.date(2026, 12, 20))
        sheet = sheet_of(tmp_path / "hotline.yaml", "1001", f"127.0.0.1:{TLS_PORT}")
        assert (sheet["server"], sheet["transport"], sheet["user"]) == \
            (f"127.0.0.1:{TLS_PORT}", "tls", PHONE)
        assert sheet["trust CA"] == asterisk.state["tls_ca"]
        assert Path(sheet["trust CA"]).read_text().startswith("-----BEGIN CERTIFICATE")
        assert sheet["encryption"].startswith("SRTP") and sheet["codecs"].startswith("ulaw")
        await endpoint_loaded(asterisk, "hotline-tls", "sdes")
        phone = Baresip(asterisk, "tls-1001", Account(
            PHONE, sheet["password"], sheet["server"], "tls", "sdes", ("ulaw", "g722")),
            tmp_path, voice_hz=AGENT_VOICE)
        phones.append(phone)
        phone.start()
        await registered(asterisk, "transport=tls")
        # The agent logs in and goes ready from the phone's own keys.
        # (Each code's call ends before the next, as the agent hears it confirmed.)
        await asyncio.to_thread(phone.dial, "*1")
        await agent(engine, "1001", AgentState.NOT_READY, timeout=15)
        await phone_idle(asterisk)
        await asyncio.to_thread(phone.dial, "*3")
        await agent(engine, "1001", AgentState.READY, timeout=15)
        await phone_idle(asterisk)

        caller = SimulatedCaller(caller_number=VIP, dialled_number="180", stay=8,
                                 voice=str(CALLER_VOICE))
        call_id = await place_call(engine.originator, caller)
        ended = await dial_ended(tap, call_id)
        assert ended["DialStatus"] == "ANSWER", ended  # nobody pressed answer on the phone
        assert (await engine.routing.call(call_id)).get("tier") == "gold"
        entry = await recording(engine, call_id, tmp_path)
    finally:
        await engine.stop()
    trace = phone.trace_text()
    # The call came down the phone's own TLS connection (from the hotline's TLS port),
    # asking it to answer by itself; the SDP offered SRTP with its keys, in the YAML's order.
    came = re.search(rf"^TLS 127\.0\.0\.1:{TLS_PORT} -> 127\.0\.0\.1:\d+\s+"
                     rf"(INVITE sip:{PHONE}-.*?)\n\n(.*?)\n\n", trace, re.M | re.S)
    assert came, trace[-5000:]
    invite, sdp = came.groups()
    assert "Alert-Info: <http://127.0.0.1/>;info=alert-autoanswer" in invite
    assert re.search(r"m=audio \d+ RTP/SAVP 0 9 101", sdp), sdp
    assert "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" in sdp
    assert "srtp: audio: SRTP is Enabled" in trace
    # The phone's own answer mode is its default, manual: only the header answered.
    assert "answermode" not in (phone.dir / "accounts").read_text()
    # The recording has both sides: the caller's voice on the left, the agent's on the
    # right (what the caller heard).
    assert entry["problems"] == "[]", entry
    each_voice_on_its_side(tmp_path)
    # The agents' list says what the call ran on.
    row = await last_call_listed(engine, tmp_path / "hotline.yaml", phones_settings, capsys)
    assert row.endswith("ulaw srtp tls"), row


async def test_a_g722_only_phone_takes_the_call_in_g722_and_it_is_recorded_whole(
        phones_settings: Settings, redis: Redis, tmp_path: Path,  # noqa: F811
        asterisk: sandbox.SandboxInstance, phones: list[Baresip],
        capsys: pytest.CaptureFixture[str]) -> None:
    # g722, ulaw, alaw over UDP. Stereo: Asterisk's own interleaved stream was off-pitch
    # on both sides in a G.711 to G.722 bridge, the two sides filed apart are not.
    config = hotline(asterisk, "{auto_answer: call-info}")
    engine, tap = await engine_for(phones_settings, redis, config, tmp_path)
    try:
        await endpoint_loaded(asterisk, "transport-udp", "(g722|ulaw|alaw)")
        phone = Baresip(asterisk, "g722-1001", Account(
            PHONE, phone_password(engine.phones.secret_key, PHONE),
            f"127.0.0.1:{asterisk.sip_port}", codecs=("g722",)), tmp_path, voice_hz=AGENT_VOICE)
        phones.append(phone)
        phone.start()
        await registered(asterisk)
        await engine.routing.apply("1001", Move.LOG_IN, time.time())
        await engine.routing.apply("1001", Move.GO_READY, time.time())
        # A caller on the trunk, as real ones come: G.711, speaking a tone.
        caller = await asyncio.to_thread(speaking_caller, asterisk, "13533330021", tmp_path)
        try:
            ended = await tap.wait_for(lambda m: m.get("Event") == "DialEnd"
                                       and PHONE in m.get("DestChannel", ""), timeout=30)
            assert ended["DialStatus"] == "ANSWER", ended
            call_id = ended["Uniqueid"]
            stats = await until(lambda: asyncio.to_thread(asterisk.cli,
                                                          "pjsip show channelstats"),
                                10, "the agent's leg has RTP", holds=lambda s: PHONE[:10] in s)
            entry = await recording(engine, call_id, tmp_path)
        finally:
            caller.wait(timeout=30)
    finally:
        await engine.stop()
    assert re.search(rf"{PHONE[:10]}\S* +\S+ +g722 ", stats), stats
    answer = phone.trace_text()
    answer = answer[answer.index("SIP/2.0 200 Answering"):]
    assert re.search(r"m=audio \d+ RTP/AVP 9 101", answer), answer[:2000]
    assert entry["problems"] == "[]", entry  # the recording check: length and silence
    call_seconds = (int(entry["ended"]) - int(entry["started"])) / 1000
    assert abs(float(entry["duration"]) - call_seconds) < 2.0
    each_voice_on_its_side(tmp_path)  # true to pitch across the G.711 to G.722 bridge
    row = await last_call_listed(engine, tmp_path / "hotline.yaml", phones_settings, capsys)
    assert row.endswith("g722 rtp clear"), row


async def test_a_phone_that_takes_no_offered_codec_is_out_with_the_codecs_named_until_fixed(
        phones_settings: Settings, redis: Redis, tmp_path: Path,  # noqa: F811
        asterisk: sandbox.SandboxInstance, phones: list[Baresip],
        caplog: pytest.LogCaptureFixture) -> None:
    config = hotline(asterisk, "{auto_answer: call-info, codecs: [g722, ulaw]}")
    engine, tap = await engine_for(phones_settings, redis, config, tmp_path)
    password = phone_password(engine.phones.secret_key, PHONE)
    server = f"127.0.0.1:{asterisk.sip_port}"
    try:
        await endpoint_loaded(asterisk, "(g722|ulaw)")
        alaw_only = Baresip(asterisk, "alaw-1001", Account(PHONE, password, server,
                                                           codecs=("alaw",)), tmp_path)
        phones.append(alaw_only)
        alaw_only.start()
        await registered(asterisk)
        # Its own keys cannot reach the hotline either (Asterisk refuses its A-law
        # offer), so the agent goes ready from the desk's moves.
        for agent_id in ("1001", "1002"):
            await engine.routing.apply(agent_id, Move.LOG_IN, time.time())
            await engine.routing.apply(agent_id, Move.GO_READY, time.time())
        caplog.set_level(logging.WARNING, logger="hotline.queues.outcomes")
        first = SimulatedCaller(caller_number="13533330022", dialled_number="180", stay=30)
        first_id = await place_call(engine.originator, first)
        refused = await dial_ended(tap, first_id)
        assert refused["DialStatus"] != "ANSWER"
        assert "SIP/2.0 488 Not Acceptable Here" in alaw_only.trace_text()
        # The caller goes on to the other agent; 1001 is out with the codecs named.
        served = await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineAgentAnswered"
                                    and m.get("Caller") == first.caller_number, timeout=15)
        assert served["Agent"] == "1002"
        out = await agent(engine, "1001", AgentState.NOT_READY)
        assert out["reason"].startswith("phone refused the call: it takes none of the "
                                        "codecs offered (g722, ulaw)"), out
        history = await engine.redis.lrange(engine.routing.keys.agent_log("1001"), 0, -1)
        assert not any(m.endswith("no answer") for m in history), history
        assert any("(g722, ulaw)" in r.getMessage() and "1001" in r.getMessage()
                   for r in caplog.records), [r.getMessage() for r in caplog.records]

        # Fixed: switched off (it unregisters), set to G.711 and registered again. The
        # agent is back without touching anything, and takes the next caller.
        alaw_only.stop()
        await agent(engine, "1001", AgentState.NOT_READY)
        fixed = Baresip(asterisk, "ulaw-1001", Account(PHONE, password, server,
                                                       codecs=("ulaw",)), tmp_path)
        phones.append(fixed)
        fixed.start()
        await agent(engine, "1001", AgentState.READY, timeout=20)
        second = SimulatedCaller(caller_number="13533330023", dialled_number="180", stay=5)
        second_id = await place_call(engine.originator, second)
        assert (await dial_ended(tap, second_id))["DialStatus"] == "ANSWER"
    finally:
        await engine.stop()

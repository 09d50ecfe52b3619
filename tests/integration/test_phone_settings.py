"""Agents' phone settings on the real sandbox: the endpoints Asterisk loads from the
rendered file carry them, and a phone answers on the auto-answer header alone."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hotline.dev import sandbox
from hotline.dev.local_redis import free_port
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.settings import Settings
from pbx.pjsip_agents import phone_password
from tests.integration.helpers import engine_for, until
from tests.integration.test_softphones import (
    CONFIG,
    PHONE,
    SIPP,
    Softphone,
    phone_ready,
    phones_settings,  # noqa: F401  (a fixture)
)

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]


def with_phone(own: str) -> str:
    line = f"    endpoint: PJSIP/{PHONE}\n"
    assert line in CONFIG
    return CONFIG.replace(line, line + f"    phone: {own}\n")


async def test_asterisk_loads_each_agents_nat_encryption_and_codecs(
        phones_settings: Settings, redis: Redis, tmp_path: Path,  # noqa: F811
        asterisk: sandbox.SandboxInstance) -> None:
    engine, _ = await engine_for(phones_settings, redis, with_phone(
        "{network: behind_nat, encryption: sdes, codecs: [opus, g722, ulaw]}"), tmp_path)
    try:
        shown = await until(lambda: asyncio.to_thread(asterisk.cli,
                                                      f"pjsip show endpoint {PHONE}"),
                            10, f"{PHONE} is loaded with its settings",
                            holds=lambda text: "rewrite_contact" in text and "sdes" in text)
    finally:
        await engine.stop()
    settings = {parts[0].strip(): parts[1].strip() for line in shown.splitlines()
                if len(parts := line.strip().split(":", 1)) == 2}
    assert settings["rtp_symmetric"] == "true" and settings["force_rport"] == "true"
    assert settings["rewrite_contact"] == "true" and settings["media_encryption"] == "sdes"
    assert settings["allow"] == "(opus|g722|ulaw)"


@pytest.mark.parametrize("asked", [True, False])
async def test_a_phone_answers_on_the_auto_answer_header_alone(
        phones_settings: Settings, redis: Redis, tmp_path: Path,  # noqa: F811
        asterisk: sandbox.SandboxInstance, asked: bool) -> None:
    phone = Softphone(asterisk, ["-sf", str(SIPP / "auto_answering.xml"),
                                 "-mp", str(free_port())])
    config = with_phone("{auto_answer: alert-info}" if asked else "{auto_answer: none}")
    engine, tap = await engine_for(phones_settings, redis, config, tmp_path)
    try:
        # The endpoint as this config has it, not as an earlier test left it (SRTP).
        await until(lambda: asyncio.to_thread(asterisk.cli, f"pjsip show endpoint {PHONE}"),
                    10, f"{PHONE} is reloaded without encryption",
                    holds=lambda text: re.search(r"media_encryption +: +no\b", text))
        await phone_ready(engine, phone, asterisk)
        caller = SimulatedCaller(caller_number="13533330011", dialled_number="180", stay=6)
        call_id = await place_call(engine.originator, caller)
        ended = await tap.wait_for(lambda m: m.get("Event") == "DialEnd"
                                   and m.get("Uniqueid") == call_id
                                   and PHONE in m.get("DestChannel", ""), timeout=20)
        # Asked, the phone answers by itself; not asked, it never does (RONA).
        assert (ended["DialStatus"] == "ANSWER") == asked, ended
    finally:
        await engine.stop()
        phone.close()


async def test_a_softphone_registers_with_what_hotline_agents_phone_prints(
        phones_settings: Settings, redis: Redis, tmp_path: Path,  # noqa: F811
        asterisk: sandbox.SandboxInstance) -> None:
    engine, _ = await engine_for(phones_settings, redis, CONFIG, tmp_path)
    phone = Softphone(asterisk)
    try:
        assert phones_settings.secret_key == b"test-secret-key"
        printed = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "hotline", "agents", "phone", "1001", "--config",
            str(tmp_path / "hotline.yaml"), "--server", f"127.0.0.1:{asterisk.sip_port}"],
            capture_output=True, text=True, timeout=60,
            env={**os.environ, "HOTLINE_SECRET_KEY": "test-secret-key"})
        assert printed.returncode == 0, printed.stdout + printed.stderr
        sheet = dict(line.strip().split(None, 1) for line in printed.stdout.splitlines()[1:]
                     if line.startswith("  ") and not line.strip().startswith(("trust",
                                                                               "feature")))
        assert sheet["user"] == PHONE and sheet["server"] == f"127.0.0.1:{asterisk.sip_port}"
        phone.password = sheet["password"]
        await until(lambda: asyncio.to_thread(asterisk.cli, "pjsip show endpoints"), 10,
                    f"{PHONE} is an endpoint", holds=lambda endpoints: PHONE in endpoints)
        await asyncio.to_thread(phone.register)  # fails unless Asterisk takes the password
        contacts = await asyncio.to_thread(asterisk.cli, f"pjsip show aor {PHONE}")
        assert f"{PHONE}/sip:" in contacts
    finally:
        await engine.stop()
        phone.close()


async def test_hotline_agents_list_shows_who_is_registered_and_the_round_trip(
        phones_settings: Settings, redis: Redis, tmp_path: Path,  # noqa: F811
        asterisk: sandbox.SandboxInstance, capsys: pytest.CaptureFixture[str]) -> None:
    from config.loader import load
    from hotline.cli.agents import agents_listing

    # On the LAN: the SIPp harness registers from another port than the one that takes
    # calls, which a phone behind NAT (its contact rewritten to the REGISTER's source)
    # would not survive.
    engine, _ = await engine_for(phones_settings, redis, with_phone("{codecs: [ulaw]}"),
                                 tmp_path)
    phone = Softphone(asterisk)
    try:
        config = load(tmp_path / "hotline.yaml")
        phone.password = phone_password(engine.phones.secret_key, PHONE)
        await until(lambda: asyncio.to_thread(asterisk.cli, "pjsip show endpoints"), 10,
                    f"{PHONE} is an endpoint", holds=lambda endpoints: PHONE in endpoints)

        async def listed() -> str:
            assert await agents_listing(config, phones_settings) == 0
            return capsys.readouterr().out

        # Not registered, or (a phone an earlier test registered, now gone) failing its
        # qualify: never "yes" before this phone registers.
        await until(listed, 20, "1001's phone is not reachable",
                    holds=lambda out: re.search(
                        rf"^1001 .*{PHONE} +(no|unreachable) +- +udp +none +lan +ulaw +", out,
                        re.M))
        await asyncio.to_thread(phone.register)

        after = await until(listed, 15, "1001's phone is registered and qualified",
                            holds=lambda out: re.search(r"^1001 .* yes +\d+\.\d ms", out, re.M))
        assert re.search(r"^1002 .*Local/1002@sim-agent +- +- ", after, re.M), after
    finally:
        await engine.stop()
        phone.close()

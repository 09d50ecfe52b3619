"""`hotline doctor` against a healthy sandbox and Redis, and against deployments broken
the way an operator's can be: a dialplan context gone, Redis without AOF, the agents'
file where pjsip.conf does not look, prompts and recordings folders Asterisk sees
elsewhere, an AMI user that streams DTMF. Reading the AMI user's classes is also
checked on Asterisk's recorded output (no Asterisk needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from hotline.cli.doctor import run_checks
from hotline.cli.doctor_asterisk import channel_variables_verdict
from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis
from hotline.runtime.checkup import (
    Check,
    classes_from_manager_conf,
    classes_from_show_user,
    endpoints_in,
    judge_classes,
    judge_clock,
)
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from pbx.ami import AmiConnection
from pbx.pjsip_agents import default_phones, render

ROOT = Path(__file__).resolve().parents[2]

# `manager show user hotline` on the sandbox's Asterisk 22, as the Command action's
# Output carries it.
SHOW_USER = """
          username: hotline
            secret: <Set>
               ACL: yes
         read perm: system,call,agent,user,agi
        write perm: system,call,reporting,originate,agi
   displayconnects: no
allowmultiplelogin: yes
         Variables:
"""


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def manager_conf(box: sandbox.SandboxInstance) -> Path:
    return Path(str(box.state["instance_dir"])) / "etc" / "manager.conf"


# --- no Asterisk: reading and judging what Asterisk and manager.conf say ---------------

def test_the_sandbox_users_classes_as_asterisk_shows_them() -> None:
    found = classes_from_show_user(SHOW_USER)
    assert found is not None
    assert judge_classes("hotline", *found, "test").status == "ok"
    assert classes_from_show_user("There is no manager called nobody") is None


def test_a_user_that_streams_keys_or_lacks_a_class_fails() -> None:
    everything = classes_from_show_user(SHOW_USER.replace(
        "read perm: system,call,agent,user,agi", "read perm: system,call,agent,user,agi,dtmf"))
    assert everything is not None
    verdict = judge_classes("hotline", *everything, "test")
    assert verdict.status == "FAIL" and "dtmf" in verdict.detail and "PINs" in verdict.detail
    conf = "[general]\nenabled = yes\n[hotline](!)\nread = all ; lazy\nwrite = call,agi\n"
    found = classes_from_manager_conf(conf, "hotline")
    assert found is not None and "dtmf" in found[0]  # `all` grants it
    verdict = judge_classes("hotline", *found, "manager.conf")
    assert verdict.status == "FAIL"
    assert "write lacks originate,reporting,system" in verdict.detail
    assert classes_from_manager_conf(conf, "someone") is None
    powerful = judge_classes("hotline", {"system", "call", "agi", "user", "agent"},
                             {"call", "agi", "originate", "reporting", "system", "command"}, "x")
    assert powerful.status == "WARN" and "any Asterisk CLI command" in powerful.detail


def test_endpoints_of_the_agents_file_and_the_clock() -> None:
    text = render(default_phones(["PJSIP/agent-1001", "PJSIP/agent-1002",
                                  "Local/1003@sim-agent"]), b"k")
    assert endpoints_in(text) == ["agent-1001", "agent-1002"]
    assert judge_clock(0.3).status == "ok"
    late = judge_clock(-3.5)
    assert late.status == "WARN" and "3.5s behind" in late.detail and "NTP" in late.detail


# --- a real sandbox and redis-server ---------------------------------------------------

@pytest.mark.asterisk
@pytest.mark.redis
def test_a_healthy_deployment_passes_from_the_command_line(
        settings: Settings, asterisk: sandbox.SandboxInstance) -> None:
    env = {**os.environ, "HOTLINE_AMI_HOST": settings.ami.host,
           "HOTLINE_AMI_PORT": str(settings.ami.port), "HOTLINE_AMI_USER": settings.ami.username,
           "HOTLINE_AMI_SECRET": settings.ami.secret, "HOTLINE_REDIS_URL": settings.redis_url,
           "HOTLINE_KEY_PREFIX": settings.key_prefix, "HOTLINE_SECRET_KEY": "doctor-test",
           "HOTLINE_PROMPTS_DIR": str(settings.prompts_dir),
           "HOTLINE_PROMPTS_DIR_ASTERISK": settings.prompts_dir_asterisk,
           "HOTLINE_RECORDINGS_DIR": str(settings.recordings_dir),
           "HOTLINE_RECORDINGS_DIR_ASTERISK": settings.recordings_dir_asterisk}
    env.pop("HOTLINE_PJSIP_AGENTS_FILE", None)
    env.pop("HOTLINE_CONFIG", None)
    proc = subprocess.run([sys.executable, "-m", "hotline", "doctor", "--manager-conf",
                           str(manager_conf(asterisk))], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in ("secret key", "AMI", "AMI classes", "dialplan", "modules", "prompts",
                 "recordings (Asterisk)", "channel variables", "agents' phones", "clock",
                 "recordings (engine)", "Redis", "live config"):
        assert any(line.startswith(f"ok    {name}: ") for line in lines), (name, lines)
    assert not any(line.startswith("FAIL") for line in lines)
    assert lines[-1].startswith("no check failed")
    # The test call left nothing behind: no prompt, no recording, no extension.
    assert not list(settings.prompts_dir.glob("hotline-doctor-*"))
    assert not list(settings.recordings_dir.glob("hotline-doctor-*"))


@pytest.fixture
async def ami(settings: Settings) -> AsyncIterator[AmiConnection]:
    connection = AmiConnection(settings.ami, lambda _event: None)
    connection.start()
    await connection.wait_up(10)
    yield connection
    await connection.close()


@pytest.fixture
async def no_aof() -> AsyncIterator[LocalRedis]:
    """A redis-server without AOF, as one started from a stock config runs."""
    server = LocalRedis().start()
    client = connect(server.url)
    await client.config_set("appendonly", "no")
    await client.aclose()
    yield server
    server.stop()


@pytest.mark.asterisk
@pytest.mark.redis
async def test_a_broken_deployment_gets_what_to_fix_for_each_fault(
        settings: Settings, asterisk: sandbox.SandboxInstance, no_aof: LocalRedis,
        tmp_path: Path) -> None:
    # The agents' endpoints written where pjsip.conf does not include them.
    agents_file = tmp_path / "pjsip_agents.conf"
    agents_file.write_text(render(default_phones(["PJSIP/agent-doctor"]), b"k"))
    # A manager.conf whose user hears every key callers press.
    lazy = tmp_path / "manager.conf"
    lazy.write_text(manager_conf(asterisk).read_text().replace(
        "read = system,call,agi,user,agent", "read = all"))
    broken = replace(settings, redis_url=no_aof.url, pjsip_agents_file=agents_file,
                     prompts_dir_asterisk="/srv/nowhere/sounds",
                     recordings_dir_asterisk=str(Path(settings.recordings_dir_asterisk).parent))
    checks = by_name(await run_checks(broken, manager_conf=lazy, timeout=5))
    assert checks["AMI"].status == "ok"
    assert checks["AMI classes"].status == "FAIL"
    assert "dtmf" in checks["AMI classes"].detail and str(lazy) in checks["AMI classes"].detail
    assert checks["prompts"].status == "FAIL"
    assert "HOTLINE_PROMPTS_DIR_ASTERISK" in checks["prompts"].detail
    assert "/srv/nowhere/sounds" in checks["prompts"].detail
    assert checks["recordings (Asterisk)"].status == "FAIL"
    assert "HOTLINE_RECORDINGS_DIR_ASTERISK" in checks["recordings (Asterisk)"].detail
    assert checks["agents' phones"].status == "FAIL"
    assert "no endpoint agent-doctor" in checks["agents' phones"].detail
    assert "must include this very file" in checks["agents' phones"].detail
    assert checks["Redis"].status == "FAIL" and "appendonly yes" in checks["Redis"].detail
    assert checks["dialplan"].status == checks["modules"].status == "ok"
    # The stray recording Asterisk wrote one folder up is this test's to remove.
    for stray in settings.recordings_dir.parent.glob("hotline-doctor-*.wav"):
        stray.unlink()


@pytest.mark.asterisk
@pytest.mark.redis
async def test_a_context_gone_from_the_dialplan(
        settings: Settings, ami: AmiConnection) -> None:
    """As after a `dialplan reload` of an extensions.conf that lost the survey context:
    its extensions are removed from the live dialplan, then put back."""
    context = "hotline-survey"
    listing = await ami.send_action({"Action": "ShowDialPlan", "Context": context})
    original = [e for e in listing.events if e.get("Event") == "ListDialplan"]
    assert original
    for exten in {e["Extension"] for e in original}:
        await ami.send_action({"Action": "DialplanExtensionRemove", "Context": context,
                               "Extension": exten})
    try:
        checks = by_name(await run_checks(settings, timeout=5))
    finally:
        for e in original:
            await ami.send_action({
                "Action": "DialplanExtensionAdd", "Context": context,
                "Extension": e["Extension"], "Priority": e["Priority"],
                "Application": e["Application"], "ApplicationData": e.get("AppData", ""),
                "Replace": "yes"})
    assert checks["dialplan"].status == "FAIL"
    assert context in checks["dialplan"].detail
    assert "deploy/asterisk/extensions.conf" in checks["dialplan"].detail
    assert "dialplan reload" in checks["dialplan"].detail
    restored = await ami.send_action({"Action": "ShowDialPlan", "Context": context})
    assert [(e["Priority"], e["Application"], e.get("AppData")) for e in restored.events
            if e.get("Event") == "ListDialplan"] == \
        [(e["Priority"], e["Application"], e.get("AppData")) for e in original]
    assert by_name(await run_checks(settings, timeout=5))["dialplan"].status == "ok"
    # The doctor's own test call leaves no extension behind.
    own = await ami.send_action({"Action": "ShowDialPlan", "Context": "hotline-doctor"},
                                check=False)
    assert not [e for e in own.events if e.get("Event") == "ListDialplan"]


def test_a_manager_conf_without_channelvars_is_warned_of() -> None:
    """As Asterisk 22 sends a channel event with and without `channelvars`."""
    event = {"Event": "UserEvent", "UserEvent": "HotlineDoctor", "Channel": "Local/d1;2"}
    ok = channel_variables_verdict(event | {"ChanVariable": "HOTLINE_CALL_ID="})
    assert ok.status == "ok"
    warned = channel_variables_verdict(event)
    assert warned.status == "WARN" and "channelvars = HOTLINE_CALL_ID" in warned.detail
    assert channel_variables_verdict(event | {"ChanVariable": "OTHER=1"}).status == "WARN"

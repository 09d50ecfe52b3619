"""Driving the project's Asterisk sandbox script from Python (demo, tests)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hotline.dev.local_redis import free_port
from pbx.ami import AmiConnection, AmiError, AmiSettings

log = logging.getLogger(__name__)

SCRIPT = Path(os.environ.get(
    "HOTLINE_SANDBOX_SCRIPT",
    Path(__file__).resolve().parents[2] / "deploy" / "asterisk" / "sandbox"))


class SandboxFailed(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class SandboxInstance:
    name: str
    ami: AmiSettings
    sip_port: int
    recordings_dir: Path
    state: dict[str, object]

    def cli(self, command: str) -> str:
        return run("--instance", self.name, "cli", *command.split())

    def restart(self) -> None:
        run("--instance", self.name, "down")
        start(self.name, self.ami.port, self.sip_port)


def run(*args: str) -> str:
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SandboxFailed(proc.stderr.strip() or proc.stdout.strip())
    return proc.stdout


def start(name: str, ami_port: int, sip_port: int, rtp_start: int = 20000) -> SandboxInstance:
    state = json.loads(run("--instance", name, "up", "--ami-port", str(ami_port),
                           "--sip-port", str(sip_port), "--rtp-start", str(rtp_start),
                           "--json").splitlines()[-1])
    ami = AmiSettings(host=str(state["ami_host"]), port=int(state["ami_port"]),
                      username=str(state["ami_user"]), secret=str(state["ami_secret"]))
    return SandboxInstance(name=name, ami=ami, sip_port=int(state["sip_port"]),
                           recordings_dir=Path(str(state["recordings_dir"])), state=state)


@contextmanager
def owned(name: str, rtp_start: int, purge: bool = True) -> Iterator[SandboxInstance]:
    """An instance a load run starts and stops. One already running under the name is
    someone else's: refused rather than measured or stopped."""
    try:
        run("--instance", name, "status")
    except SandboxFailed:
        pass  # not running: ours to start
    else:
        raise SystemExit(f"sandbox instance '{name}' is already running; "
                         "stop it or pass another --instance")
    box = start(name, free_port(), free_port(), rtp_start)
    try:
        yield box
    finally:
        # Purging removes only this instance's directory (its configs and recordings).
        stop(name, purge=purge)


def stop(name: str, purge: bool = True) -> None:
    run("--instance", name, "down", *(["--purge"] if purge else []))


async def channels_up(ami: AmiConnection) -> int | None:
    """Channels Asterisk has now; None when it does not answer (counted as busy)."""
    try:
        response = await ami.send_action({"Action": "CoreShowChannels"}, timeout=10)
    except AmiError:
        return None
    return len(response.events)


async def hang_up_everyone(ami: AmiConnection) -> int:
    """Every channel Asterisk has is hung up (the engine's AMI user may not run CLI
    commands, so no `channel request hangup all`); returns how many were asked to go."""
    try:
        response = await ami.send_action({"Action": "CoreShowChannels"}, timeout=10)
    except AmiError:
        return 0
    channels = [item["Channel"] for item in response.events if item.get("Channel")]
    await asyncio.gather(*(ami.send_action({"Action": "Hangup", "Channel": channel},
                                           check=False) for channel in channels))
    return len(channels)


async def wait_idle(ami: AmiConnection, timeout: float = 60.0, poll: float = 0.5) -> None:
    """Until Asterisk has no channel, so a load run measures its own calls only."""
    deadline = time.monotonic() + timeout
    while await channels_up(ami) != 0:
        if time.monotonic() > deadline:
            log.warning("Asterisk still has channels after %.0fs; going on", timeout)
            return
        await asyncio.sleep(poll)


def serve_environment(box: SandboxInstance, redis_url: str, prefix: str,
                      config: Path) -> dict[str, str]:
    """The environment of a `hotline serve` process on the instance's Asterisk, a Redis
    and a key prefix: what a test or a bench starts a real engine process with."""
    state = box.state
    return {**os.environ, "HOTLINE_AMI_HOST": box.ami.host,
            "HOTLINE_AMI_PORT": str(box.ami.port), "HOTLINE_AMI_USER": box.ami.username,
            "HOTLINE_AMI_SECRET": box.ami.secret, "HOTLINE_REDIS_URL": redis_url,
            "HOTLINE_KEY_PREFIX": prefix, "HOTLINE_CONFIG": str(config),
            "HOTLINE_SECRET_KEY": "test-secret-key",
            "HOTLINE_PROMPTS_DIR": str(state["sounds_dir"]),
            "HOTLINE_PROMPTS_DIR_ASTERISK": str(state["sounds_dir_in_chroot"]),
            "HOTLINE_RECORDINGS_DIR": str(state["recordings_dir"]),
            "HOTLINE_RECORDINGS_DIR_ASTERISK": str(state["recordings_dir_in_chroot"])}

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


async def wait_idle(ami: AmiConnection, timeout: float = 60.0, poll: float = 0.5) -> None:
    """Until Asterisk has no channel, so a load run measures its own calls only."""
    deadline = time.monotonic() + timeout
    while await channels_up(ami) != 0:
        if time.monotonic() > deadline:
            log.warning("Asterisk still has channels after %.0fs; going on", timeout)
            return
        await asyncio.sleep(poll)

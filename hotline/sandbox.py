"""Driving the project's Asterisk sandbox script from Python (demo, tests)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pbx.ami import AmiSettings

SCRIPT = Path(os.environ.get(
    "HOTLINE_SANDBOX_SCRIPT",
    Path(__file__).resolve().parent.parent / "deploy" / "asterisk" / "sandbox"))


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


def stop(name: str, purge: bool = True) -> None:
    run("--instance", name, "down", *(["--purge"] if purge else []))

"""The sandbox script fails loudly and says what to do."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from hotline.dev import sandbox

pytestmark = pytest.mark.asterisk


def run(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [str(sandbox.SCRIPT), *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", "--regid=nogroup", "--clear-groups", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_a_taken_port_is_named_with_the_way_out(asterisk: sandbox.SandboxInstance) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = run("--instance", f"taken-{os.getpid()}", "up", "--ami-port", str(port))
    assert proc.returncode == 1
    assert f"AMI port {port} on 127.0.0.1 is taken" in proc.stderr
    assert "--ami-port" in proc.stderr


def test_not_root_is_refused_with_the_way_out(asterisk: sandbox.SandboxInstance) -> None:
    proc = run("--instance", f"user-{os.getpid()}", "up", user="nobody")
    assert proc.returncode == 1
    assert "needs root" in proc.stderr and "sudo" in proc.stderr


def test_status_names_where_it_runs(asterisk: sandbox.SandboxInstance) -> None:
    proc = run("--instance", asterisk.name, "status")
    assert proc.returncode == 0
    assert f"AMI 127.0.0.1:{asterisk.ami.port}" in proc.stdout
    assert run("--instance", "never-started", "status").returncode == 3

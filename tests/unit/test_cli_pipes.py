"""Every `hotline` command is safe to pipe into `head`: when the reader goes away, the
command stops quietly. And `queues stats` shows short times in tenths."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.cli.main import READER_GONE, main
from hotline.cli.queues import _seconds

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "hotline.yaml"


class GoneReader(io.StringIO):
    """A stdout whose reader has gone, as `| head` leaves it after its lines."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no descriptor")


def test_a_reader_gone_ends_the_command_quietly(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdout", GoneReader())
    assert main(["config", "check", str(EXAMPLE)]) == READER_GONE
    monkeypatch.undo()
    assert "Traceback" not in capsys.readouterr().err


def test_a_broken_pipe_that_is_not_our_output_is_a_real_fault(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    """stdout is fine (a file here): a BrokenPipeError from elsewhere, a socket of the
    engine's, must not pass for a reader that went away."""
    def socket_broke(argv: list[str] | None) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("hotline.cli.main._run", socket_broke)
    with pytest.raises(BrokenPipeError):
        main(["serve"])


def test_piped_into_a_reader_that_closes_at_once() -> None:
    """The real thing: a child process whose stdout pipe is closed before it writes."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hotline", "config", "check", str(EXAMPLE)],
            stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=60,
            env={**os.environ, "PYTHONUNBUFFERED": ""})
    finally:
        os.close(write_end)
    assert proc.returncode == READER_GONE, proc.stderr
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert "Exception ignored" not in proc.stderr, proc.stderr


@pytest.mark.parametrize(("value", "shown"), [
    (None, "-"), (0.35, "0.4s"), (0.04, "0.0s"), (1.25, "1.3s"), (9.94, "9.9s"),
    (9.96, "10s"), (12.5, "13s"), (13.49, "13s"), (125.0, "125s"), (float("nan"), "-"),
])
def test_queue_times_in_tenths_below_ten_seconds(value: float | None, shown: str) -> None:
    assert _seconds(value) == shown

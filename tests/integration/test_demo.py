"""The newcomer's first command: `hotline demo` serves three callers end to end."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]


def test_the_demo_connects_every_caller_and_the_vip_first_class() -> None:
    proc = subprocess.run([sys.executable, "-m", "hotline", "demo"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.count("outcome: to an agent") == 3, out
    vip = out[out.index("(Li Na, diamond)"):]
    assert "from queue vip" in vip.split("\n\n")[0], out
    assert "heard en/main_menu" in out  # the caller who pressed 9 heard English

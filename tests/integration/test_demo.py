"""The newcomer's first command: `hotline demo` serves three callers end to end."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]


def test_the_demo_connects_every_caller_and_the_vip_first_class() -> None:
    proc = subprocess.run([sys.executable, "-m", "hotline", "demo", "--once"],
                          capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.count("outcome: to an agent") == 3, out
    vip = out[out.index("(Li Na, diamond)"):]
    assert "from queue vip" in vip.split("\n\n")[0], out
    assert "heard en/main_menu" in out  # the caller who pressed 9 heard English


def test_the_demo_runs_on_with_the_web_side_until_ctrl_c() -> None:
    """What the README's first command leaves running: the printed supervisor login
    opens a wallboard where callers keep coming, and Ctrl-C ends it all cleanly."""
    proc = subprocess.Popen([sys.executable, "-m", "hotline", "demo"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        told = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            told.append(line)
            if "Ctrl-C stops the demo" in line:
                break
        out = "".join(told)
        found = re.search(r"wallboard: +(\S+) +log in as supervisor / (\S+)", out)
        assert found, out
        wallboard, password = found.groups()
        assert re.search(r"register agent-1001@127\.0\.0\.1:\d+ \(UDP\), password \w{20}",
                         out), out
        base = wallboard.removesuffix("/wallboard")
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        login = browser.open(f"{base}/login").read().decode()
        token = re.search(r'name="csrf" value="([^"]+)"', login)
        assert token, login
        form = urllib.parse.urlencode({"csrf": token.group(1), "username": "supervisor",
                                       "password": password}).encode()
        page = browser.open(f"{base}/login", data=form)
        assert page.geturl().endswith("/wallboard")
        shown = page.read().decode()
        assert 'data-queue="vip"' in shown and "VIP desk" in shown, shown
        offered = 0.0
        until = time.monotonic() + 30
        while time.monotonic() < until and offered <= 4:
            metrics = browser.open(f"{base}/metrics").read().decode()
            offered = sum(float(m.group(1)) for m in re.finditer(
                r'^hotline_calls_offered_total\{queue="[a-z_]+",tier="all"\} (\S+)$',
                metrics, re.MULTILINE))
            time.sleep(1)
        assert offered > 4, "callers stopped coming after the first three"
    finally:
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert "demo stopped" in rest
    assert "Traceback" not in err, err

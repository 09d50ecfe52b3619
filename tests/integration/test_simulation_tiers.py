"""A traffic file's caller numbers looked up in the billing backend (the built-in store
in a real redis-server) give the simulated callers their VIP mix, as the engine would
find each caller's tier."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.dev.local_redis import LocalRedis

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
TIERS = ["normal"] * 6 + ["gold"] * 2 + ["diamond"]
ACCOUNTS = "number,balance_fen,tier\n" + "".join(
    f"1380000{n:04d},1000,{tier}\n" for n, tier in enumerate(TIERS))


def test_caller_numbers_take_their_tiers_from_the_billing_backend(
        redis_server: LocalRedis, tmp_path: Path) -> None:
    env = {**os.environ, "HOTLINE_REDIS_URL": redis_server.url,
           "HOTLINE_KEY_PREFIX": "simulate-tiers:", "HOTLINE_SECRET_KEY": "test-secret-key"}
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    imported = subprocess.run([sys.executable, "-m", "hotline", "billing", "import",
                               "accounts", str(tmp_path / "accounts.csv")],
                              capture_output=True, text=True, env=env, timeout=60)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    # Nine customers and one number the directory does not know.
    numbers = [f"1380000{n:04d}" for n in range(9)] + ["13999999999"]
    (tmp_path / "callers.txt").write_text("\n".join(numbers) + "\n")
    (tmp_path / "traffic.yaml").write_text(
        (ROOT / "docs" / "simulate" / "traffic.yaml").read_text()
        .replace("tiers: {normal: 0.85, silver: 0.08, gold: 0.05, diamond: 0.02}",
                 "caller_numbers: callers.txt"))
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, "-m", "hotline", "simulate", "--config",
                           str(ROOT / "config" / "hotline.yaml"), "--traffic",
                           str(tmp_path / "traffic.yaml"), "--json", str(out)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("tiers of 10 caller number(s) from the billing backend: diamond 10.0%, "
            "gold 20.0%, normal 70.0% (1 not found: normal)") in done.stdout
    assert "general       gold" in done.stdout and "silver" not in done.stdout

    gone = subprocess.run([sys.executable, "-m", "hotline", "simulate", "--config",
                           str(ROOT / "config" / "hotline.yaml"), "--traffic",
                           str(tmp_path / "traffic.yaml")], capture_output=True, text=True,
                          env={**env, "HOTLINE_REDIS_URL": "redis://127.0.0.1:1"},
                          timeout=120)
    assert gone.returncode == 1
    assert "the billing backend did not answer for 10 of 10 number(s)" in gone.stderr

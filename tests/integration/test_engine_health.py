"""`hotline serve` with HOTLINE_HTTP_LISTEN: the operator's /healthz and /readyz, and
/metrics with this engine's AGI round trips, AMI link, lease and Redis errors."""

from __future__ import annotations

import asyncio
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis, free_port
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from tests.integration.helpers import talk_and_wait_hotline, until

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()
    except OSError:
        return 0, ""


async def test_the_engine_says_when_it_is_ready_and_what_its_agi_commands_cost(
        asterisk: sandbox.SandboxInstance, redis_server: LocalRedis, engine: Engine,
        tmp_path: Path) -> None:
    engine.calls.accepting = False  # the fixture's engine only places the call
    config = tmp_path / "hotline.yaml"
    config.write_text(talk_and_wait_hotline(""))
    port = free_port()
    env = {**sandbox.serve_environment(asterisk, redis_server.url, "health:", config),
           "HOTLINE_HTTP_LISTEN": f"127.0.0.1:{port}", "HOTLINE_INSTANCE_ID": "healthy"}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "hotline", "serve",
                                                    env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        await until(lambda: asyncio.to_thread(get, f"{base}/readyz"), 30,
                    "the engine is ready", holds=lambda answer: answer[0] == 200)
        assert await asyncio.to_thread(get, f"{base}/healthz") == (200, "ok\n")
        await place_call(engine.originator, SimulatedCaller(dialled_number="10000", stay=3))

        def families() -> dict[str, object]:
            status, text = get(f"{base}/metrics")
            assert status == 200
            return {f.name: f for f in text_string_to_metric_families(text)}

        def value(found: dict[str, object], name: str, sample: str) -> float:
            family = found[name]
            return next(s.value for s in family.samples  # type: ignore[attr-defined]
                        if s.name == sample)

        found = await until(lambda: asyncio.to_thread(families), 20,
                            "the caller's prompt counted as an AGI round trip",
                            holds=lambda f: value(f, "hotline_agi_command_seconds",
                                                  "hotline_agi_command_seconds_count") >= 1)
        assert value(found, "hotline_ami_connected", "hotline_ami_connected") == 1
        assert value(found, "hotline_engine_lease_held", "hotline_engine_lease_held") == 1
        assert value(found, "hotline_redis_errors", "hotline_redis_errors_total") == 0
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    assert proc.returncode == 0, text

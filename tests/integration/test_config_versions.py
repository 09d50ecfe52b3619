"""Versions in a real Redis: activate, refuse, roll back, and every engine follows."""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from config.loader import ConfigError
from config.versions import ConfigVersions, NothingToRollBack
from hotline.cli.main import main
from hotline.dev.local_redis import LocalRedis
from hotline.runtime.live_config import LiveConfig
from tests.integration.helpers import until

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "config" / "hotline.yaml").read_text()
BROKEN = (ROOT / "tests" / "data" / "config" / "typo_key.yaml").read_text()
_prefixes = itertools.count(1)


def faster_relax(text: str) -> str:
    return text.replace("    relax:\n      - after: 30s", "    relax:\n      - after: 5s", 1)


@pytest.fixture
def prefix() -> str:
    return f"versions-{next(_prefixes)}:"


async def test_activate_refuse_and_roll_back(redis: Redis, prefix: str) -> None:
    versions = ConfigVersions(redis, prefix, time.time)
    first = await versions.activate(EXAMPLE, author="li.na", source="hotline.yaml")
    assert (first.version.number, first.changed) == (1, True)

    with pytest.raises(ConfigError) as refused:
        await versions.activate(BROKEN, author="li.na", source="typo.yaml")
    assert "unknown key 'relx'" in str(refused.value)
    assert (await versions.active_number()) == 1

    second = await versions.activate(faster_relax(EXAMPLE), author="wang.fang",
                                     source="hotline.yaml")
    assert second.version.number == 2 and second.version.author == "wang.fang"
    again = await versions.activate(faster_relax(EXAMPLE), author="x", source="hotline.yaml")
    assert not again.changed

    back = await versions.rollback(author="li.na")
    assert back.number == 1 and (await versions.active_number()) == 1
    with pytest.raises(NothingToRollBack):
        await versions.rollback(author="li.na")
    log = await versions.history()
    assert [(e["what"], e["version"], e["author"]) for e in log] == [
        ("activate", 1, "li.na"), ("activate", 2, "wang.fang"), ("rollback", 1, "li.na")]
    assert (await versions.get(2)).sha256 == second.loaded.sha256  # type: ignore[union-attr]


async def test_every_engine_follows_the_active_version(
        redis: Redis, prefix: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "hotline.yaml"
    path.write_text(EXAMPLE)
    engines = [LiveConfig(ConfigVersions(redis, prefix, time.time), path, "engine",
                          poll_every=0.2) for _ in range(2)]
    for live in engines:
        await live.start()
    try:
        assert [live.version for live in engines] == [1, 1]
        # A supervisor activates from elsewhere (the CLI, another engine).
        other = ConfigVersions(redis, prefix, time.time)
        await other.activate(faster_relax(EXAMPLE), author="sup", source="cli")
        await until(lambda: [live.version for live in engines], 10,
                    "both engines serve version 2", holds=lambda seen: seen == [2, 2])
        assert all(live.config.queues["general"].relax[0].after == 5 for live in engines)

        # The file changes on disk: a broken save is seen, refused, and changes nothing...
        caplog.set_level(logging.ERROR, logger="hotline.runtime.live_config")
        path.write_text(BROKEN)
        await until(lambda: [r for r in caplog.records if "not activated" in r.getMessage()],
                    10, "both engines refuse the broken file",
                    holds=lambda refusals: len(refusals) >= 2)
        assert [live.version for live in engines] == [2, 2]
        # ...and a good one becomes the next version.
        path.write_text(EXAMPLE.replace("  rate: 0.10", "  rate: 0.20"))
        await until(lambda: [live.version for live in engines], 10,
                    "both engines serve version 3", holds=lambda seen: seen == [3, 3])
        assert engines[1].config.sampling.rate == 0.2
    finally:
        for live in engines:
            await live.stop()


def test_the_cli_activates_refuses_and_rolls_back(
        redis_server: LocalRedis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTLINE_REDIS_URL", redis_server.url)
    monkeypatch.setenv("HOTLINE_KEY_PREFIX", "cli-versions:")
    good, faster, broken = (tmp_path / n for n in ("good.yaml", "faster.yaml", "bad.yaml"))
    good.write_text(EXAMPLE)
    faster.write_text(faster_relax(EXAMPLE))
    broken.write_text(BROKEN)

    assert main(["config", "activate", str(good), "--author", "li.na"]) == 0
    assert main(["config", "activate", str(broken)]) == 1
    assert main(["config", "activate", str(faster), "--author", "wang.fang"]) == 0
    assert main(["config", "rollback", "--author", "li.na"]) == 0
    assert main(["config", "history"]) == 0
    out = capsys.readouterr().out
    assert "version 1 is live (by li.na)" in out
    assert "unknown key 'relx'" in out and "not activated; version 1 stays live" in out
    assert "version 2 is live (by wang.fang)" in out
    assert "queue 'general': relax step 1, after: 30s → 5s" in out
    assert "queue 'general': relax step 1, after: 5s → 30s" in out
    assert out.count("activate") >= 2 and "rollback  version 1  by li.na" in out

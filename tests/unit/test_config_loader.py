from __future__ import annotations

from pathlib import Path

from config.loader import check, check_text
from hotline.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"


def test_the_example_is_valid() -> None:
    config, problems = check(EXAMPLE)
    assert problems == []
    assert config is not None and config.numbers.unified == "10000"


def test_every_problem_is_located_and_worded() -> None:
    _, problems = check_text("numbers:\n  unifed: '10000'\nversion: x\n", "bad.yaml")
    assert [str(p) for p in problems] == [
        "bad.yaml:1:1: error: numbers.unified: 'unified' is required here",
        "bad.yaml:2:3: error: numbers.unifed: unknown key 'unifed'; did you mean 'unified'?",
        "bad.yaml:3:10: error: version: expected a whole number, got 'x'",
    ]


def test_duplicate_keys_are_refused() -> None:
    _, problems = check_text("numbers:\n  unified: '1'\n  unified: '2'\n", "dup.yaml")
    assert [str(p) for p in problems] == [
        "dup.yaml:3:3: error: duplicate key 'unified': each key may appear once here"]


def test_config_check_exit_codes(tmp_path: Path, capsys: object) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("numbers: [\n")
    assert main(["config", "check", str(EXAMPLE)]) == 0
    assert main(["config", "check", str(broken)]) == 1

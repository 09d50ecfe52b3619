"""Each broken file differs from small.yaml by one mistake a supervisor could make, and
gets exactly one message at exactly the place to look."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import check

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "tests" / "data" / "config"
EXAMPLE = ROOT / "config" / "hotline.yaml"


def messages(name: str) -> list[str]:
    _, problems = check(FILES / name)
    return [str(p).removeprefix(str(FILES) + "/") for p in problems]


def test_the_example_and_the_small_base_are_valid_without_warnings() -> None:
    for path in (EXAMPLE, FILES / "small.yaml"):
        config, problems = check(path)
        assert config is not None and problems == [], problems


@pytest.mark.parametrize(("name", "expected"), [
    ("typo_key.yaml",
     "typo_key.yaml:45:5: error: queues.billing.relx: unknown key 'relx'; "
     "did you mean 'relax'?"),
    ("wrong_type.yaml",
     "wrong_type.yaml:53:9: error: sampling.rate: expected a number, got 'often'"),
    ("missing_reference.yaml",
     "missing_reference.yaml:44:14: error: queues.billing.skills.biling: unknown skill "
     "'biling'; did you mean 'billing'?"),
    ("unreachable_node.yaml",
     "unreachable_node.yaml:28:3: warning: menus.agent: menu node 'agent' is never "
     "reached: no number, key or other node leads to it"),
    ("inescapable_loop.yaml",
     "inescapable_loop.yaml:25:3: error: menus.balance: callers who reach 'balance' can "
     "never leave: balance → recap → balance loops with no queue, hangup or fallback to "
     "a person"),
    ("bad_time.yaml",
     "bad_time.yaml:7:11: error: calendar.hours.mon[0]: bad time '25:00' in "
     "'08:00-25:00': hours go 00-23 (24:00 for midnight), minutes 00-59"),
    ("duplicate_key.yaml",
     "duplicate_key.yaml:36:3: error: duplicate key 'billing': each key may appear "
     "once here"),
])
def test_one_mistake_one_located_message(name: str, expected: str) -> None:
    assert messages(name) == [expected]


def test_every_problem_is_reported_not_only_the_first(tmp_path: Path) -> None:
    text = (FILES / "small.yaml").read_text()
    text = text.replace("    relax:\n", "    relx:\n").replace("  rate: 0.1\n", "  rate: 2\n")
    text = text.replace("    kind: balance\n", "    kind: balanse\n")
    broken = tmp_path / "three.yaml"
    broken.write_text(text)
    _, problems = check(broken)
    assert [(p.line, p.path) for p in problems] == [
        (26, "menus.balance.kind"), (45, "queues.billing.relx"), (53, "sampling.rate")]
    assert "did you mean 'balance'?" in problems[0].message
    assert "out of range" in problems[2].message


def test_config_check_exits_0_only_when_valid(capsys: pytest.CaptureFixture[str]) -> None:
    from hotline.cli.main import main  # here: the other checks need none of the CLI

    assert main(["config", "check", str(EXAMPLE)]) == 0
    assert main(["config", "check", str(FILES / "unreachable_node.yaml")]) == 0
    assert main(["config", "check", str(FILES / "typo_key.yaml")]) == 1
    assert main(["config", "check", str(FILES / "no-such-file.yaml")]) == 1
    out = capsys.readouterr().out
    assert "valid, with 1 warning(s)" in out and "cannot read the file" in out

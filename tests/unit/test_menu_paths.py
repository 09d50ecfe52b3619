"""Callers down the menus in the simulator: where a path of keys leads, and a number's
callers shared out over their paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loader import load
from config.traffic import Traffic
from hotline.cli.main import main
from ivr.paths import PathEnd, split, walk
from routing.callers import generated, unfit_paths

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = load(ROOT / "config" / "hotline.yaml")


@pytest.mark.parametrize(("path", "tier", "end", "queue"), [
    ("0", "normal", PathEnd.QUEUE, "general"),
    ("0", "gold", PathEnd.QUEUE, "vip"),  # the VIP branch follows the tier
    ("2", "normal", PathEnd.QUEUE, "fault_report"),  # through business hours, open
    ("1 1", "normal", PathEnd.SELF_SERVED, None),  # the balance, then they hang up
    ("1 3 4111111111111111 123456", "normal", PathEnd.SELF_SERVED, None),  # a top-up
    ("", "normal", PathEnd.HUNG_UP, None),
    ("wait", "normal", PathEnd.PERSON, None),  # the main menu's fallback: a person
    ("7", "normal", PathEnd.STUCK, None),  # no key 7 in the main menu
])
def test_a_path_of_keys_leads_where_the_menus_send_it(path: str, tier: str, end: PathEnd,
                                                      queue: str | None) -> None:
    walked = walk(EXAMPLE.menus, EXAMPLE.numbers.start, split(path), tier)
    assert (walked.end, walked.queue) == (end, queue), walked.nodes


def test_a_numbers_callers_are_shared_out_over_their_paths() -> None:
    traffic = Traffic.model_validate({"hours": 10, "queues": {
        "general": {"handle_time": {"mean": 60}}, "vip": {"handle_time": {"mean": 60}}},
        "numbers": {"10000": {"per_hour": 100, "paths": {"0": 0.6, "1 1": 0.4},
                              "menu_time": {"distribution": "fixed", "mean": 20}}},
        "tiers": {"normal": 0.9, "gold": 0.1}})
    day = generated(traffic, seed=2, config=EXAMPLE)
    queued = len(day.callers)
    served = day.in_menus["10000: self-served"]
    assert 0.55 < queued / (queued + served) < 0.65
    assert {c.queue for c in day.callers} == {"general", "vip"}
    assert all(c.arrives >= 20 for c in day.callers)  # after their time in the menus
    assert all(c.queue == "vip" for c in day.callers if c.tier == "gold")


def test_paths_the_yaml_cannot_follow_are_named() -> None:
    traffic = Traffic.model_validate({"hours": 1, "queues": {
        "general": {"handle_time": {"mean": 60}}},
        "numbers": {"10000": {"per_hour": 10, "paths": {"7": 0.5, "2": 0.5}},
                    "555": {"per_hour": 1, "paths": {"": 1}}}})
    problems = unfit_paths(traffic, EXAMPLE)
    assert "numbers.555: not a number the YAML answers" in problems
    assert any("'7': no way on after main" in p for p in problems)
    assert any("'2': reaches queue fault_report" in p for p in problems)


def test_hotline_simulate_by_number_tells_who_ended_in_the_menus(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--config", str(ROOT / "config" / "hotline.yaml"),
                 "--traffic", str(ROOT / "docs" / "simulate" / "by-number.yaml")]) == 0
    printed = capsys.readouterr().out
    assert "vip           all" in printed and "fault_report  all" in printed
    assert "ended in the menus, no queue: " in printed and "10000: self-served" in printed


def test_a_numbers_shares_must_add_up(tmp_path: Path) -> None:
    from config.loader import check_traffic

    path = tmp_path / "traffic.yaml"
    path.write_text("hours: 1\nqueues:\n  general: {handle_time: {mean: 60}}\nnumbers:\n"
                    "  \"10000\":\n    per_hour: 10\n    paths: {\"0\": 0.5, \"1 1\": 0.4}\n")
    found, problems = check_traffic(path)
    assert found is None and any("add up to 0.9" in p.message for p in problems), problems

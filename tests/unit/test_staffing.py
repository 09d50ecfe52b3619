"""Agents per interval: Erlang C first, then the engine's policy in simulation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from config.loader import load_text
from config.traffic import Traffic
from hotline.cli.main import main
from hotline.dev.configs import one_skill_hotline
from routing.erlang import agents_needed
from routing.staffing import schedule, staff


def test_a_steady_queue_gets_erlang_cs_head_count_confirmed() -> None:
    traffic = Traffic.model_validate({"hours": 4, "queues": {"talk": {
        "per_hour": 200, "handle_time": {"mean": 180}}}})
    plan = staff(load_text(one_skill_hotline(3)).config, traffic, "talk", 0.85, 20)
    assert plan.met and plan.template == "a0"
    erlang = agents_needed(10, 180, 0.85, 20)
    assert {row.erlang_c for row in plan.intervals} == {erlang}
    # Confirmed: the simulation moves an agent only where the days' noise cannot
    # explain the shortfall (the first interval starts from an empty floor).
    assert sum(row.agents != erlang for row in plan.intervals) <= 2
    assert all((row.figures.service_level or 0) >= 0.78 for row in plan.intervals)
    answered = sum(row.figures.answered for row in plan.intervals)
    assert sum(row.figures.answered_in_sl for row in plan.intervals) >= 0.85 * answered


def test_impatient_callers_need_fewer_agents_than_erlang_c_says() -> None:
    # Erlang C counts everyone who hangs up as still waiting: the simulation, where they
    # leave the line, confirms a smaller floor.
    traffic = Traffic.model_validate({"hours": 2, "queues": {"talk": {
        "per_hour": 200, "handle_time": {"mean": 180},
        "patience": {"mean": "30s"}}}})
    plan = staff(load_text(one_skill_hotline(3)).config, traffic, "talk", 0.85, 20)
    assert plan.met
    assert sum(r.agents for r in plan.intervals) < sum(r.erlang_c for r in plan.intervals)


def test_a_schedule_puts_each_copy_on_for_its_runs_of_intervals() -> None:
    spans = schedule([1, 2, 2, 1], 900, 3600)
    assert [(s.agent_id, s.start, s.end) for s in spans] == [
        ("copy-1", 0, float("inf")), ("copy-2", 900, 2700)]


def test_hotline_simulate_staff_prints_the_plan(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "plan.json"
    assert main(["simulate", "staff", "--config", str(root / "config" / "hotline.yaml"),
                 "--traffic", str(root / "docs" / "simulate" / "traffic.yaml"),
                 "--queue", "general", "--target", "80/30", "--days", "3",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "general: 80% within 30s (of those answered)" in printed and "agent-hours:" in printed
    plan = json.loads(out.read_text())
    assert plan["met"] and len(plan["intervals"]) == 16  # 4 hours of 15 minutes
    assert all(i["agents"] >= 1 for i in plan["intervals"])
    assert main(["simulate", "staff", "--config", str(root / "config" / "hotline.yaml"),
                 "--traffic", str(root / "docs" / "simulate" / "traffic.yaml"),
                 "--queue", "nowhere"]) == 1
    assert "no traffic for queue nowhere" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "staff", "--config", "x", "--traffic", "y", "--queue", "q",
              "--target", "85%"])


def test_config_diff_with_traffic_predicts_the_change(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    root = Path(__file__).resolve().parents[2]
    assert main(["config", "diff", str(root / "config" / "hotline.yaml"),
                 str(root / "docs" / "simulate" / "one-relax-step-less.yaml"),
                 "--traffic", str(root / "docs" / "simulate" / "traffic.yaml")]) == 0
    printed = capsys.readouterr().out
    words, _, predicted = printed.partition("Predicted on the callers of")
    assert "general" in words and "relax" in words  # the plain-words diff comes first
    assert "general       all" in predicted and " pp" in predicted


def test_a_queue_that_counts_hang_ups_as_missed_needs_more_agents() -> None:
    traffic = Traffic.model_validate({"hours": 2, "queues": {"talk": {
        "per_hour": 200, "handle_time": {"mean": 180}, "patience": {"mean": "40s"}}}})
    answered = load_text(one_skill_hotline(3)).config
    rules = answered.queues["talk"]
    strict = answered.model_copy(update={"queues": {"talk": rules.model_copy(update={
        "service_level": rules.service_level.model_copy(update={"abandons_count": True})})}})
    lenient, counted = (staff(c, traffic, "talk", 0.85, 20) for c in (answered, strict))
    assert sum(r.agents for r in counted.intervals) > sum(r.agents for r in lenient.intervals)

"""The simulated floor beyond M/M/c: shifts, rings and rings let run out, a day's total on
a curve, empirical handle times, several days; and the traffic file's new words."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from config.loader import check_traffic, load_text
from config.model import HotlineConfig
from config.traffic import Traffic
from hotline.cli.simulate_report import table
from hotline.dev.configs import one_skill_hotline
from routing.callers import Caller, OnDuty
from routing.simulation import simulate, simulate_traffic


def one_queue(agents: int, within: float = 20.0) -> HotlineConfig:
    return load_text(one_skill_hotline(agents, answered_within=within)).config


def flow(hours: float, **talk: object) -> Traffic:
    return Traffic.model_validate({"hours": hours, "queues": {"talk": {
        "per_hour": 60, "handle_time": {"mean": 120}, **talk}}})


def test_an_agent_serves_only_on_their_shift() -> None:
    traffic = Traffic.model_validate({"hours": 3, "queues": {"talk": {
        "per_hour": 20, "handle_time": {"distribution": "fixed", "mean": 60}}},
        "shifts": [{"agents": ["a0"], "start": "1h", "end": "2h"}]})
    result = simulate_traffic(one_queue(2), traffic, seed=4)
    by_hour = [[f for (_, n), f in result.by_interval.items() if n // 4 == hour]
               for hour in range(3)]
    # Those who call before the shift wait for it; those after it wait forever.
    first = sum(f.answered for f in by_hour[0])
    assert first > 0 and all((f.asa or 0) > 60 for f in by_hour[0] if f.answered)
    assert sum(f.answered for f in by_hour[2]) == 0
    assert sum(f.offered for f in by_hour[2]) > 5
    # Busy time is counted against the hour on duty only (a1 has no shift at all).
    assert 0.5 < result.occupancy <= 1.05


def test_an_agent_on_a_call_at_the_shifts_end_finishes_it_and_takes_no_more() -> None:
    config = one_queue(1)
    callers = [Caller("c1", "talk", 50, "normal", 100), Caller("c2", "talk", 70, "normal", 10)]
    result = simulate(config, callers, [OnDuty("a0", 0, 60)], day=3600)
    figures = result.figures[("talk", "all")]
    assert figures.answered == 1 and figures.offered == 2  # c2 is never answered


def test_a_ring_counts_in_the_wait_and_in_the_agents_time() -> None:
    config = one_queue(20, within=4)
    rung = simulate_traffic(config, flow(4, ring_time={"distribution": "fixed", "mean": 5}),
                            seed=2)
    direct = simulate_traffic(config, flow(4), seed=2)
    assert rung.figures[("talk", "all")].service_level == 0.0  # nobody within 4 s
    assert abs((rung.figures[("talk", "all")].asa or 0) - 5) < 0.5
    assert direct.figures[("talk", "all")].service_level == 1.0
    assert rung.occupancy > direct.occupancy


def test_a_ring_let_run_out_sends_the_caller_back_and_the_agent_away() -> None:
    config = one_queue(3)
    callers = [Caller("c1", "talk", 0, "normal", 30, let_ring=1)]
    result = simulate(config, callers, [OnDuty(f"a{i}", 0, math.inf) for i in range(3)],
                      day=600, back_after_rona=60)
    figures = result.figures[("talk", "all")]
    ring_timeout = config.queues["talk"].ring_timeout
    # Rung for the whole ring timeout, then answered at once by the next agent.
    assert figures.answered == 1 and figures.asa == pytest.approx(ring_timeout)
    with_rona = simulate_traffic(one_queue(6), flow(6, rona=0.3), seed=5)
    without = simulate_traffic(one_queue(6), flow(6), seed=5)
    assert (with_rona.figures[("talk", "all")].service_level or 0) < \
        (without.figures[("talk", "all")].service_level or 0)


def test_a_days_total_is_spread_by_the_curve() -> None:
    traffic = Traffic.model_validate({"hours": 2, "interval": "30m", "queues": {"talk": {
        "per_day": 4000, "curve": [1, 3, 3, 1], "handle_time": {"mean": 1}}}})
    result = simulate_traffic(one_queue(5), traffic, seed=1, days=3)
    offered = [result.by_interval[("talk", n)].offered / 3 for n in range(4)]
    assert abs(sum(offered) - 4000) < 4000 * 0.03
    assert 2.6 < (offered[1] + offered[2]) / (offered[0] + offered[3]) < 3.4
    assert result.days == 3 and result.calls == sum(
        result.by_interval[("talk", n)].offered for n in range(4))


def test_an_empirical_handle_time_draws_from_its_samples() -> None:
    traffic = flow(10, handle_time={"distribution": "empirical",
                                    "samples": ["60s", "2m", "5m"]})
    figures = simulate_traffic(one_queue(12), traffic, seed=3).figures[("talk", "all")]
    assert figures.aht is not None and abs(figures.aht - 160) < 15


@pytest.mark.parametrize(("text", "line", "words"), [
    ("    per_hour: 10\n    per_day: 100\n", 3, "one of them"),
    ("    handle_time: {distribution: empirical, mean: 3m, samples: [1m]}\n", 3,
     "takes its mean from its samples"),
])
def test_the_traffic_files_new_words_are_checked_at_their_line(
        tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "traffic.yaml"
    body = "hours: 2\nqueues:\n  talk:\n" + text
    if "handle_time" not in text:
        body += "    handle_time: {mean: 3m}\n"
    else:
        body += "    per_hour: 10\n"
    path.write_text(body)
    found, problems = check_traffic(path)
    assert found is None
    assert any(p.line >= line and words in p.message for p in problems), problems


def test_a_shift_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "traffic.yaml"
    path.write_text("hours: 2\nqueues:\n  talk: {per_hour: 10, handle_time: {mean: 3m}}\n"
                    "shifts:\n  - {agents: [a0], start: 2h, end: 1h}\n")
    found, problems = check_traffic(path)
    assert found is None and any(p.line == 5 and "ends after it starts" in p.message
                                 for p in problems), problems


def test_each_tiers_guarantee_is_shown_honoured_or_broken_with_the_engines_warnings() -> None:
    tiers = ("    gold: {priority: 200, max_wait: 30s}\n"
             "    normal: {priority: 0, max_wait: 3600s}\n")
    config = load_text(one_skill_hotline(9, tiers)).config
    traffic = Traffic.model_validate({"hours": 8, "tiers": {"normal": 0.8, "gold": 0.2},
                                      "queues": {"talk": {"per_hour": 150,
                                                          "handle_time": {"mean": 180}}}})
    result = simulate_traffic(config, traffic, seed=3)
    shown = table(config, result, traffic, traffic.hours)
    gold = next(line for line in shown.splitlines() if line.startswith("tier gold:"))
    normal = next(line for line in shown.splitlines() if line.startswith("tier normal:"))
    assert "guaranteed 30s" in gold and "starvation warning(s)" in gold
    assert ("broken for" in gold) == (result.past_guarantee.get("gold", 0) > 0)
    assert "honoured" in normal and result.longest_wait[("talk", "normal")] < 3600
    # The warnings in the engine's own words (the engine logs `starvation_warning`).
    warned = [line.strip() for line in shown.splitlines() if "starvation: call" in line]
    assert warned and warned[0] == result.warnings[0]
    assert re.fullmatch(r"starvation: call talk-0-\d+ \(gold\) has waited \d+s in talk of the "
                        r"gold tier's guaranteed 30s, and no agent has taken it", warned[0])


def test_a_traffic_file_where_nobody_calls_is_refused_unless_a_day_is_replayed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hotline.cli.main import main

    path = tmp_path / "on-duty.yaml"
    path.write_text('logged_in: ["1001"]\n')
    yaml = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"
    assert main(["simulate", "--config", str(yaml), "--traffic", str(path)]) == 1
    assert "nobody calls" in capsys.readouterr().err


def test_a_tier_mix_and_caller_numbers_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "traffic.yaml"
    path.write_text("queues:\n  talk: {per_hour: 10, handle_time: {mean: 3m}}\n"
                    "tiers: {normal: 1}\ncaller_numbers: callers.txt\n")
    found, problems = check_traffic(path)
    assert found is None and any("one of them" in p.message for p in problems), problems

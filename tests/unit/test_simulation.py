"""The simulator against theory: M/M/c runs of the engine's own policy agree with
Erlang C; VIP tiers go first; the traffic file is checked like the routing YAML."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pytest

from config.loader import check_traffic, load_text
from config.model import HotlineConfig
from config.traffic import Traffic
from hotline.cli.main import main
from hotline.dev.configs import one_skill_hotline
from routing.erlang import agents_needed, average_speed_of_answer, erlang_a, service_level
from routing.simulation import simulate_traffic


def one_queue(agents: int, tiers: str = "    normal: {priority: 0, max_wait: 3600s}\n",
              aging: float = 0.0) -> HotlineConfig:
    """One skill, first come first served (longest idle), no wrap-up: M/M/c."""
    return load_text(one_skill_hotline(agents, tiers, aging)).config


def traffic(erlangs: float, handle_time: float, hours: float, **more: object) -> Traffic:
    return Traffic.model_validate({"hours": hours, "queues": {"talk": {
        "per_hour": erlangs / handle_time * 3600, "handle_time": {"mean": handle_time}}},
        **more})


def test_erlang_c_gives_the_textbook_figures() -> None:
    assert round(service_level(14, 10, 180, 20), 3) == 0.888
    assert round(service_level(55, 48, 240, 20), 3) == 0.867
    assert agents_needed(10, 180, 0.85, 20) == 14
    assert service_level(10, 10, 180, 20) == 0.0  # the agents cannot keep up
    assert 0 < average_speed_of_answer(14, 10, 180) < 20


@pytest.mark.parametrize(("erlangs", "handle_time", "agents", "hours", "runs"), [
    (10, 180, 14, 40, 6),  # the A: 88.8%
    (48, 240, 55, 50, 8),  # the B: 86.7%
    (2, 120, 4, 60, 6),
    (5, 60, 7, 50, 6),
    (20, 300, 24, 40, 6),
])
def test_mmc_runs_agree_with_erlang_c(
        erlangs: float, handle_time: float, agents: int, hours: float, runs: int) -> None:
    """Within three standard errors of the replications' mean (their spread is measured,
    not assumed), and that error under a point. The one-point agreement itself takes
    longer runs: `bench/simulate.py` shows it with each case's 95% interval."""
    config = one_queue(agents)
    flow = traffic(erlangs, handle_time, hours)
    first = int(erlangs * 1000)  # seeds of its own per case: the cases err apart
    levels = [simulate_traffic(config, flow, seed, count_from=3600).figures[("talk", "all")]
              .service_level or 0.0 for seed in range(first, first + runs)]
    simulated = statistics.mean(levels)
    error = statistics.stdev(levels) / runs ** 0.5
    theory = service_level(agents, erlangs, handle_time, 20)
    assert error < 0.01, levels
    assert abs(simulated - theory) <= 3 * error, (simulated, theory, error, levels)


@pytest.mark.parametrize(("erlangs", "handle_time", "agents", "patience"), [
    (10, 180, 12, 120), (10, 180, 10, 60)])
def test_impatient_callers_agree_with_erlang_a_within_a_point(
        erlangs: float, handle_time: float, agents: int, patience: float) -> None:
    flow = Traffic.model_validate({"hours": 40, "queues": {"talk": {
        "per_hour": erlangs / handle_time * 3600, "handle_time": {"mean": handle_time},
        "patience": {"mean": patience}}}})
    runs = [simulate_traffic(one_queue(agents), flow, seed, count_from=3600)
            .figures[("talk", "all")] for seed in range(4)]
    level, hung_up = erlang_a(agents, erlangs, handle_time, patience, 20)
    assert abs(statistics.mean(f.service_level or 0 for f in runs) - level) <= 0.01
    assert abs(statistics.mean(f.abandoned / f.offered for f in runs) - hung_up) <= 0.01


def test_erlang_a_without_impatience_is_erlang_c() -> None:
    level, hung_up = erlang_a(14, 10, 180, 1e9, 20)
    assert abs(level - service_level(14, 10, 180, 20)) < 1e-6 and hung_up < 1e-6


def test_the_same_seed_brings_the_same_callers_whatever_the_config() -> None:
    flow = traffic(8, 180, 6, tiers={"normal": 0.8, "gold": 0.2})
    tiers = "    gold: {priority: 200, max_wait: 30s}\n    normal: {priority: 0, max_wait: 600s}\n"
    few, many = (simulate_traffic(one_queue(n, tiers), flow, seed=7) for n in (8, 11))
    for tier in ("gold", "normal"):
        assert few.figures[("talk", tier)].offered == many.figures[("talk", tier)].offered
    assert (few.figures[("talk", "all")].service_level or 0) < \
        (many.figures[("talk", "all")].service_level or 0)


def test_gold_callers_go_first_when_agents_are_scarce() -> None:
    tiers = ("    gold: {priority: 200, max_wait: 30s}\n"
             "    normal: {priority: 0, max_wait: 3600s}\n")
    result = simulate_traffic(one_queue(9, tiers), traffic(7.5, 180, 8, tiers={"normal": 0.8,
                                                                        "gold": 0.2}), seed=3)
    gold, normal = result.figures[("talk", "gold")], result.figures[("talk", "normal")]
    assert gold.service_level is not None and normal.service_level is not None
    assert gold.service_level > normal.service_level + 0.15
    assert (gold.asa or 0) < (normal.asa or 0) / 3
    # Gold callers near their 30 s guarantee are warned about, as the engine logs them.
    assert result.starvation_warnings.get("gold", 0) > 0
    assert "normal" not in result.starvation_warnings


def test_a_typo_in_the_traffic_file_is_shown_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "traffic.yaml"
    path.write_text("hours: 2\nqueues:\n  talk:\n    per_hour: 10\n"
                    "    handle_tme: {mean: 3m}\n")
    found, problems = check_traffic(path)
    assert found is None
    assert any(p.line == 5 and "did you mean 'handle_time'" in p.message
               for p in problems), problems


def test_hotline_simulate_on_the_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "figures.json"
    assert main(["simulate", "--config", str(root / "config" / "hotline.yaml"),
                 "--traffic", str(root / "docs" / "simulate" / "traffic.yaml"),
                 "--json", str(out), "--chart", str(tmp_path / "sl.svg")]) == 0
    printed = capsys.readouterr().out
    assert "general       all" in printed and "agents busy" in printed
    figures = json.loads(out.read_text())
    chart = (tmp_path / "sl.svg").read_text()
    assert chart.startswith("<svg") and chart.count("<polyline") == 3  # one per queue
    assert figures["calls"] > 200
    # Every caller is offered to a queue once, and again to each queue they overflow to.
    whole = [q for name, q in figures["queues"].items() if name.endswith("/all")]
    assert sum(q["offered"] - q["overflowed"] for q in whole) == figures["calls"]


def test_a_what_if_meets_the_same_callers_under_both_yamls(
        capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    assert main(["simulate", "--config", str(root / "config" / "hotline.yaml"),
                 "--traffic", str(root / "docs" / "simulate" / "traffic.yaml"),
                 "--compare", str(root / "docs" / "simulate" / "one-relax-step-less.yaml")]) == 0
    printed = capsys.readouterr().out
    base, _, rest = printed.partition("The same callers under")
    # (General also counts the callers who overflow into it, which the YAMLs change.)
    first = r"^((?!general)\S+ +all) +(\d+)"
    offered = re.findall(first, base, re.M)
    assert offered and offered == re.findall(first, rest.split("\n\n")[0], re.M)
    # Without general's first relax step, its callers wait for the better agents longer.
    general = re.search(r"^general +all .*", rest.split("\n\n")[-1], re.M)
    assert general and "pp" in general.group(0)


def test_traffic_naming_an_agent_the_yaml_lacks_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "traffic.yaml"
    path.write_text((root / "docs" / "simulate" / "traffic.yaml").read_text()
                    + 'logged_in: ["1001", "9999"]\n')
    assert main(["simulate", "--config", str(root / "config" / "hotline.yaml"),
                 "--traffic", str(path)]) == 1
    assert "9999" in capsys.readouterr().err

"""A past day as the simulator's callers: from the engine's records, and from an
Asterisk-format queue_log; and a replay under the same config gives the day back."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from config.loader import load_text
from hotline.cli.main import main
from hotline.dev.configs import one_skill_hotline
from routing.replay import Served, from_queue_log, from_record, replay
from routing.simulation import simulate

DAY = 1_796_169_600.0  # a midnight (UTC), the epoch seconds of a recorded day


def test_a_replayed_day_under_the_same_config_gives_its_waits_back() -> None:
    # Two agents; the third caller waits for the first agent to finish (8 s).
    served = [Served("c1", "talk", "normal", DAY + 100, "answered", 0.0, 10.0, "a0"),
              Served("c2", "talk", "normal", DAY + 101, "answered", 0.0, 10.0, "a1"),
              Served("c3", "talk", "normal", DAY + 102, "answered", 8.0, 5.0, "a0")]
    day = replay(served, interval=900)
    assert day.start == DAY and day.agents_assumed
    assert [c.arrives for c in day.callers] == [100, 101, 102]
    config = load_text(one_skill_hotline(2, answered_within=5)).config
    figures = simulate(config, day.callers, day.duty, day=day.hours * 3600).figures[
        ("talk", "all")]
    assert figures.answered == 3 and figures.answered_in_sl == 2
    assert figures.asa == pytest.approx(8 / 3)
    assert figures.aht == pytest.approx(25 / 3)


def test_what_a_record_cannot_say_is_filled_from_the_day() -> None:
    served = [Served("c1", "talk", "gold", DAY + 10, "answered", 4.0, 30.0, "a0", ring=2.0),
              Served("c2", "talk", "normal", DAY + 20, "abandoned", 12.0),
              Served("c3", "first", "normal", DAY + 30, "overflowed", 40.0),
              Served("c3", "talk", "normal", DAY + 30, "answered", 50.0, 60.0, "a0")]
    callers = {c.call_id: c for c in replay(served, interval=900, seed=3).callers}
    # The abandon had the patience they showed; an answered caller would have waited
    # longer; a caller never answered talks as one of the queue's answered callers did.
    assert callers["c2"].patience == 12.0 and callers["c2"].handle in (30.0, 60.0)
    assert callers["c1"].patience > 4.0 and math.isfinite(callers["c1"].patience)
    assert (callers["c1"].tier, callers["c1"].ring) == ("gold", 2.0)
    # The overflowed caller arrives at the first queue: the YAML decides the overflow.
    assert callers["c3"].queue == "first" and callers["c3"].handle == 60.0


def test_a_queue_without_abandons_has_callers_who_never_hang_up() -> None:
    served = [Served("c1", "talk", "normal", DAY, "answered", 3.0, 30.0, "a0")]
    assert replay(served, interval=900).callers[0].patience == math.inf


def test_a_stream_entry_becomes_a_record_with_its_ring() -> None:
    entry = dict(zip(*[iter(Served("c1", "talk", "gold", DAY, "answered", 4.0, 30.0,
                                    "a0").fields())] * 2, strict=True))
    record = from_record({**entry, "rang": f"{DAY + 1:.3f}", "answered": f"{DAY + 4:.3f}",
                          "unanswered": "1.000"})
    assert record.ring == pytest.approx(3.0) and record.talk == 30.0 and record.agent == "a0"
    assert record.let_ring == 1
    with pytest.raises(ValueError, match="outcome"):
        from_record({**entry, "outcome": "lost"})


QUEUE_LOG = """\
1796169600|NONE|NONE|Agent/a0|AGENTLOGIN|Local/1000@sim-agent
1796169600|NONE|NONE|Agent/a1|AGENTLOGIN|Local/1001@sim-agent
1796169700|c1|talk|NONE|ENTERQUEUE||13800000001|1
1796169702|c1|talk|Agent/a0|RINGNOANSWER|15000
1796169717|c1|talk|Agent/a1|CONNECT|17|c1|1
1796169777|c1|talk|Agent/a1|COMPLETECALLER|17|60|1
1796169800|c2|first|NONE|ENTERQUEUE||13800000002|1
1796169840|c2|first|NONE|EXITWITHTIMEOUT|1|1|40
1796169840|c2|talk|NONE|ENTERQUEUE||13800000002|1
1796169850|c2|talk|NONE|ABANDON|1|1|50
1796169900|c3|talk|NONE|ENTERQUEUE||13800000003|1
not a queue_log line
1796173200|NONE|NONE|Agent/a0|AGENTLOGOFF|Local/1000@sim-agent|0
"""


def test_a_queue_log_gives_callers_and_the_agents_sessions() -> None:
    day = from_queue_log(QUEUE_LOG.splitlines(keepends=True))
    by_call = {s.call_id: s for s in day.served}
    assert set(by_call) == {"c1", "c2"}  # c3 was still in line when the log ends
    assert by_call["c1"].outcome == "answered" and 60 <= by_call["c1"].talk < 61
    assert by_call["c1"].let_ring == 1 and by_call["c1"].agent == "a1"
    assert (by_call["c2"].queue, by_call["c2"].outcome) == ("first", "abandoned")
    assert 50 <= by_call["c2"].waited < 51 and day.skipped == 1
    assert ("a0", DAY, DAY + 3600) in day.duty
    assert ("a1", DAY, math.inf) in day.duty
    callers = replay(day.served, 900, sessions=day.duty)
    assert not callers.agents_assumed and {d.agent_id for d in callers.duty} == {"a0", "a1"}


def test_hotline_simulate_replays_a_queue_log(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "queue_log"
    log.write_text(QUEUE_LOG)
    yaml = tmp_path / "hotline.yaml"
    yaml.write_text(one_skill_hotline(2).replace(
        "queues:\n", "queues:\n  first: {name: First, skills: {talk: 9}, "
        "overflow: {after: 40s, to: talk}}\n"))
    assert main(["simulate", "--config", str(yaml), "--replay", str(log)]) == 0
    printed = capsys.readouterr().out
    assert "2 caller(s) from" in printed and "1 line(s) skipped" in printed
    assert "first         all" in printed and "talk          all" in printed
    assert main(["simulate", "--config", str(yaml), "--replay", str(tmp_path / "none")]) == 1
    assert "No such file" in capsys.readouterr().err


def test_a_replayed_day_with_redis_away_is_a_clear_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_REDIS_URL", "redis://127.0.0.1:1")  # nothing listens there
    yaml = tmp_path / "hotline.yaml"
    yaml.write_text(one_skill_hotline(2))
    assert main(["simulate", "--config", str(yaml), "--replay", "yesterday"]) == 1
    assert "does not answer" in capsys.readouterr().err

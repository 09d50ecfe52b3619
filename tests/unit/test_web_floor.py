"""What the wallboard and the desk show, from plain data: pure."""

from __future__ import annotations

import json
from pathlib import Path

from config.loader import load_text
from routing.decide import WaitingCall
from routing.stats import QueueFigures
from web import chart, pages
from web.floor import AgentNow, floor, screen_pop
from web.metrics import exposition
from web.words import page_language, words_for

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"
CONFIG = load_text(EXAMPLE.read_text(), "hotline.yaml").config
NOW = 1_800_000_000.0


def test_the_floor_counts_lines_tiers_and_agents() -> None:
    lines = {"general": [WaitingCall("c1", "general", NOW - 30, "normal"),
                         WaitingCall("c2", "general", NOW - 5, "diamond")]}
    figures = {("general", "all"): QueueFigures(offered=10, answered=8, answered_in_sl=6)}
    agents = {"1001": {"state": "on_call", "since": str(NOW - 60), "call": "c0"},
              "1002": {"state": "not_ready", "since": str(NOW - 9), "reason": "lunch"}}
    board = floor(CONFIG, agents, lines, figures, NOW)
    general = [r for r in board.rows if r.queue == "general"]
    assert [(r.tier, r.waiting) for r in general] == [("all", 2), ("diamond", 1), ("normal", 1)]
    assert general[0].longest_since == NOW - 30
    assert general[0].below_target  # 6 of 8 is 75%, under the 85% target
    assert general[0].name == "General enquiries"
    # At its last relax step general takes anyone with the skill: 1001 on a call, 1002 away.
    assert general[0].agents == {"on_call": 1, "not_ready": 1}
    assert general[1].agents == {}  # a tier's row: the queue's row counts them
    # The diamond caller who came later is first in line.
    assert [(w.call_id, w.position) for w in board.waiters] == [("c1", 2), ("c2", 1)]
    assert board.states["on_call"] == 1 and board.states["logged_out"] == 3
    shown = {a.agent_id: a for a in board.agents}
    assert shown["1001"].call_id == "c0" and shown["1002"].reason == "lunch"


def test_an_agent_record_says_only_what_its_state_means() -> None:
    ready = AgentNow.from_record("1001", "Zhou", {"state": "ready", "call": "stale",
                                                 "reason": "old"})
    assert (ready.call_id, ready.reason) == ("", "")
    assert AgentNow.from_record("1001", "Zhou", {}).state == "logged_out"


def test_the_screen_pop_escapes_what_the_network_sent() -> None:
    pop = screen_pop("c1", {"number": "13900000002", "tier": "diamond", "queue": "vip",
                            "arrived_at": str(NOW - 12), "menu_path": "main>billing"},
                     {"caller_name": '<script>alert("x")</script>'},
                     {"balance_fen": "8850"}, [{"when": "x", "outcome": "<b>to an agent</b>"}])
    agent = AgentNow("1001", "Zhou", "ringing", NOW, call_id="c1")
    html = pages.desk_pop(words_for("en"), pop, CONFIG.dispositions, "tok", agent)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html
    assert "¥88.50" in html and "diamond" in html
    assert "/disposition" not in html  # chosen in wrap-up, not while ringing


def test_the_pages_speak_the_browsers_language_if_the_yaml_offers_it() -> None:
    assert page_language(["zh", "en"], "zh", "en-US,en;q=0.9") == "en"
    assert page_language(["zh", "en"], "zh", "fr-FR,zh-CN;q=0.8") == "zh"
    assert page_language(["zh"], "zh", "en-US") == "zh"
    assert page_language(["fr"], "fr", "fr") == "en"  # pages the product has no words for


def test_metrics_count_each_queue_and_tier_once() -> None:
    figures = {("vip", "all"): QueueFigures(offered=3, answered=2, abandoned=1)}
    text = exposition(floor(CONFIG, {}, {}, figures, NOW), NOW, {"e1": True}, True,
                      True).decode()
    assert 'hotline_calls_offered_total{queue="vip",tier="all"} 3.0' in text
    assert 'hotline_calls_abandoned_total{queue="vip",tier="all"} 1.0' in text
    assert 'hotline_engine_lease_held{engine="e1"} 1.0' in text
    assert text.count('hotline_calls_offered_total{queue="vip"') == 1


def test_the_last_hour_is_made_of_notes_and_gaps_are_gaps() -> None:
    notes = {100: '{"answered": 10, "answered_in_sl": 9, "waiting": 2}',
             101: '{"answered": 14, "answered_in_sl": 12, "waiting": 5}',
             103: '{"answered": 15, "answered_in_sl": 13, "waiting": 0}',
             104: '{"answered": 1, "answered_in_sl": 0, "waiting": 1}'}  # past midnight
    hour = {m.minute: m for m in chart.last_hour(notes, 104)}
    assert len(hour) == chart.MINUTES and min(hour) == 45
    assert hour[101].service_level == 0.75 and hour[101].waiting == 5
    assert hour[100].service_level is None  # no note before it to compare
    assert hour[102].waiting is None and hour[103].service_level is None  # the gap
    assert hour[104].service_level is None  # the counters began again
    svg = chart.chart_svg(list(hour.values()), 0.85, "hour", "SL", "waiting")
    assert svg.count("<polyline") == 0  # no two notes in a row with answers to join
    line = chart.last_hour({m: f'{{"answered": {m}, "answered_in_sl": {m}, "waiting": 1}}'
                            for m in range(1, 61)}, 60)
    assert chart.chart_svg(line, 0.85, "hour", "SL", "waiting").count("<polyline") == 1


def test_a_note_sums_the_queues_not_their_tiers() -> None:
    figures = {("vip", "all"): QueueFigures(answered=2, answered_in_sl=1),
               ("vip", "diamond"): QueueFigures(answered=2, answered_in_sl=1),
               ("general", "all"): QueueFigures(answered=3, answered_in_sl=3)}
    lines = {"vip": [WaitingCall("c1", "vip", NOW - 3, "diamond")]}
    assert json.loads(chart.note(floor(CONFIG, {}, lines, figures, NOW))) == {
        "answered": 5, "answered_in_sl": 4, "waiting": 1}

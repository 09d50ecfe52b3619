"""The monthly review's pick and scores: pure."""

from __future__ import annotations

import zoneinfo

import pytest

from config.model import Criterion, Review
from quality.review import (
    ScoreRefused,
    month_bounds,
    month_of,
    pick,
    previous_month,
    report,
    score,
    weighted,
)

KEY = b"review key"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def entries(agent: str, count: int) -> list[dict[str, str]]:
    return [{"call_id": f"{agent}-{n}", "agent": agent, "agent_answered": "1.0"}
            for n in range(count)]


def test_the_pick_is_the_same_for_the_same_calls_month_and_key() -> None:
    calls = entries("1001", 15) + entries("1002", 25) + entries("1003", 4)
    first = pick(calls, "2026-11", KEY, 10)
    assert first == pick(list(reversed(calls)), "2026-11", KEY, 10)
    assert {a: len(c) for a, c in first.items()} == {"1001": 10, "1002": 10, "1003": 4}
    assert first != pick(calls, "2026-11", b"another key", 10)
    assert first != pick(calls, "2026-12", KEY, 10)  # a new draw every month


def test_only_answered_calls_of_their_own_are_picked() -> None:
    calls = [{"call_id": "a", "agent": "1001", "agent_answered": "1.0"},
             {"call_id": "b", "agent": "", "agent_answered": ""},  # self-service
             {"call_id": "c", "agent": "1001", "agent_answered": ""},  # rang, not answered
             {"call_id": "a", "recording": "a-leg", "agent": "1001", "agent_answered": "1"}]
    assert pick(calls, "2026-11", KEY, 10) == {"1001": ["a"]}


FORM = Review(scale=5, criteria={"accuracy": Criterion(name="accuracy", weight=3),
                                 "ownership": Criterion(name="ownership", weight=1)})


def test_a_score_needs_every_criterion_on_the_scale() -> None:
    assert score(FORM, {"accuracy": "5", "ownership": "1"}) == {"accuracy": 5, "ownership": 1}
    for bad in ({"accuracy": "5"}, {"accuracy": "6", "ownership": "1"},
                {"accuracy": "0", "ownership": "1"}, {"accuracy": "x", "ownership": "1"}):
        with pytest.raises(ScoreRefused):
            score(FORM, bad)
    assert weighted(FORM, {"accuracy": 5, "ownership": 5}) == 1.0
    assert weighted(FORM, {"accuracy": 1, "ownership": 1}) == 0.0
    assert weighted(FORM, {"accuracy": 5, "ownership": 1}) == 0.75


def test_the_report_puts_the_reviewers_score_beside_the_customers_grade() -> None:
    month = report(FORM, {"1001": ["a", "b", "c"]},
                   {"a": {"marks": "accuracy=5,ownership=5"},
                    "b": {"marks": "accuracy=1,ownership=1"}}, {"a": "2", "c": "5"})["1001"]
    assert (month.picked, month.average, month.survey_average) == (3, 0.5, 2.0)
    assert month.by_criterion["accuracy"] == [5, 1]


def test_months_in_the_hotlines_time_zone() -> None:
    start, end = month_bounds("2026-12", SHANGHAI)
    assert month_of(start, SHANGHAI) == "2026-12" and month_of(end - 1, SHANGHAI) == "2026-12"
    assert month_of(end, SHANGHAI) == "2027-01"
    assert previous_month("2027-01") == "2026-12" and previous_month("2026-03") == "2026-02"

"""The recordings' search and timeline: pure."""

from __future__ import annotations

from web.recordings_page import Mark, matches, timeline, timeline_svg
from web.words import words_for

ENTRY = {"call_id": "c1", "caller_number": "13800001111", "vip_tier": "gold",
         "queue": "billing", "agent": "1001", "started": "1800000000000",
         "queue_joined": "1800000012.5", "agent_answered": "1800000020.0",
         "duration": "60.0", "mutes": "[[3.0, 9.5]]"}


def test_a_search_matches_every_field_it_names() -> None:
    assert matches(ENTRY, "4", {})
    assert matches(ENTRY, "4", {"queue": "billing", "agent": "1001", "tier": "gold",
                                "number": "0000111", "grade": "4"})
    for wrong in ({"queue": "vip"}, {"agent": "1002"}, {"tier": "normal"},
                  {"number": "139"}, {"grade": "5"}, {"flagged": "1"}):
        assert not matches(ENTRY, "4", wrong), wrong
    assert matches({**ENTRY, "flagged": "dispute"}, "", {"flagged": "1"})


def test_the_timeline_marks_the_menu_the_wait_the_agent_and_the_mutes() -> None:
    duration, marks = timeline(ENTRY)
    assert duration == 60.0
    assert marks == [Mark("menu", 0.0, 12.5), Mark("waiting", 12.5, 20.0),
                     Mark("agent", 20.0, 60.0), Mark("muted", 3.0, 9.5)]
    svg = timeline_svg(words_for("en"), duration, marks)
    assert 'class="muted" x="40.0"' in svg and 'data-end="9.50"' in svg


def test_a_self_service_call_is_menu_all_through_and_marks_stay_inside() -> None:
    _, marks = timeline({**ENTRY, "queue_joined": "", "agent_answered": "",
                         "mutes": "[[55.0, 70.0]]"})
    assert marks == [Mark("menu", 0.0, 60.0), Mark("muted", 55.0, 60.0)]

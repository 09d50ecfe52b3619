from __future__ import annotations

from pathlib import Path

from config.diff import describe_changes
from config.loader import load_text

EXAMPLE = (Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml").read_text()


def changed(*edits: tuple[str, str]) -> list[str]:
    text = EXAMPLE
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    return describe_changes(load_text(EXAMPLE).config, load_text(text).config)


def test_no_change_says_nothing() -> None:
    assert changed() == []
    assert changed(("    max_wait: {after: 5m, then: callback}\n    service_level",
                    "    max_wait: {after: 300s, then: callback}\n    service_level")) == []


def test_changes_in_plain_words() -> None:
    assert changed(
        ('      "3": complaints\n', '      "3": complaints_queue\n'),
        ("  rate: 0.10", "  rate: 0.15"),
        ("    skills: {billing: 9, general: 8, english: 6}",
         "    skills: {billing: 7, general: 8, fault: 3}"),
        ("    sun: [09:00-18:00]", "    sun: []"),
        ("    relax:\n      - after: 30s\n        min_proficiency: 3\n      - after: 90s",
         "    relax:\n      - after: 10s\n        min_proficiency: 3\n      - after: 90s"),
        ("    max_wait: {after: 5m, then: callback}\n    service_level",
         "    max_wait: {after: 6m, then: callback}\n    service_level"),
    ) == [
        "opening hours on sun: [09:00-18:00] → none",
        "menu 'main': key 3: complaints → complaints_queue",
        "agent 1001 (Zhou Min): skill billing: level 9 → 7",
        "agent 1001 (Zhou Min): skill english removed (was level 6)",
        "agent 1001 (Zhou Min): skill fault added at level 3",
        "queue 'general': relax step 1, after: 30s → 10s",
        "queue 'general': max wait after: 5m → 6m",
        "callback sample rate: 10% → 15%",
    ]


def test_steps_and_routes_are_compared_step_by_step() -> None:
    fault = "      - after: 90s\n        min_proficiency: 1\n    overflow: {after: 2m"
    assert changed(
        (fault, "      - after: 60s\n        min_proficiency: 2\n" + fault),
        ("    relax:\n      - after: 15s\n        min_proficiency: 5\n", ""),
        ("  - callers: _1990000XXXX\n    start: main_en\n",
         "  - callers: _1380000XXXX\n    start: to_agent\n"
         "  - callers: _1990000XXXX\n    start: main\n"),
    ) == [
        "caller route 2 (_1990000XXXX), start: main_en → main",
        "caller route 1 (_1380000XXXX) added (start to_agent)",
        "queue 'vip': relax step 1 removed (after 15s, min proficiency 5)",
        "queue 'fault_report': relax step 2 added (after 60s, min proficiency 2)",
    ]
    assert changed(("  - callers: _1990000XXXX\n    start: main_en\n",
                    "  - callers: _1380000XXXX\n    start: to_agent\n"
                    "  - callers: _1990000XXXX\n    start: main_en\n"),
                   ) == ["caller route 1 (_1380000XXXX) added (start to_agent)"]

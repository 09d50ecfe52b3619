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


def test_changes_in_plain_words() -> None:
    assert changed(
        ('      "3": complaints\n', '      "3": complaints_queue\n'),
        ("  rate: 0.10", "  rate: 0.15"),
        ("    skills: {billing: 9, general: 8, english: 6}",
         "    skills: {billing: 7, general: 8}"),
        ("    sun: [09:00-18:00]", "    sun: []"),
        ("    relax:\n      - after: 30s\n        min_proficiency: 3\n      - after: 90s",
         "    relax:\n      - after: 10s\n        min_proficiency: 3\n      - after: 90s"),
    ) == [
        "opening hours on sun: [09:00-18:00] → none",
        "menu 'main': key 3: complaints → complaints_queue",
        "agent 1001 (Zhou Min): skills.billing: 9 → 7",
        "agent 1001 (Zhou Min): skills.english removed",
        "queue 'general': relax step [1].after: 30s → 10s",
        "callback sample rate: 10% → 15%",
    ]

from __future__ import annotations

from hotline.calls.journal import caller_view


def test_steps_told_in_the_callers_words() -> None:
    steps = [
        {"command": "GET DATA hello 5000 1", "result": "7"},
        {"command": 'STREAM FILE you-entered ""', "result": "0"},
        {"command": 'SAY DIGITS 7 ""', "result": "0"},
        {"command": "GET DATA menu 5000 1", "result": "", "data": "timeout"},
        {"command": 'STREAM FILE goodbye "#"', "result": "35"},
        {"command": "HANGUP", "error": "hung up (Normal Clearing)"},
    ]
    assert caller_view(steps) == [
        "heard hello", "pressed 7", "heard you-entered", "heard digits 7",
        "heard menu", "pressed nothing", "heard goodbye", "pressed # (interrupting)",
        "gone during hangup (hung up (Normal Clearing))",
    ]

"""Where a recording is silent because a caller typed a secret, as the index says it."""

from __future__ import annotations

from quality.recordings import mute_spans


def step(at: int, command: str) -> dict[str, object]:
    return {"at": at, "command": command}


def test_each_pin_typed_is_one_muted_span_from_the_recording_s_start() -> None:
    steps = [step(1000, "RECORDING STARTED /x.wav"), step(4000, "RECORDING MUTED"),
             step(9500, "RECORDING RESUMED"), step(12000, "RECORDING MUTED"),
             step(13000, "RECORDING RESUMED")]
    assert mute_spans(steps, 1000, 20000) == [(3.0, 8.5), (11.0, 12.0)]


def test_a_caller_who_hangs_up_in_the_middle_of_a_pin_is_muted_to_the_end() -> None:
    steps = [step(1000, "RECORDING STARTED /x.wav"), step(4000, "RECORDING MUTED")]
    assert mute_spans(steps, 1000, 7000) == [(3.0, 6.0)]
    assert mute_spans(steps, 1000) == []  # no end known: nothing is made up

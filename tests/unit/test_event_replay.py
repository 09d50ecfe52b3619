"""A recorded Asterisk 22 stream of one real call, replayed through the pure path."""

from __future__ import annotations

from pathlib import Path

from pbx.ami_codec import AmiDecoder
from pbx.events import (
    AgiCommandFinished,
    CallArrived,
    CallHungUp,
    CallLeftAgi,
    agi_environment,
    translate,
)

STREAM = Path(__file__).parent.parent / "data" / "first_call.ami"


def replay(chunk: int) -> list[object]:
    data = STREAM.read_bytes()
    decoder = AmiDecoder()
    events = []
    for i in range(0, len(data), chunk):
        for msg in decoder.feed(data[i:i + chunk]):
            event = translate(msg)
            if event is not None:
                events.append(event)
    return events


def test_one_call_tracked_from_arrival_to_hangup() -> None:
    events = replay(chunk=7)  # small reads split headers and UTF-8 alike
    arrived = [e for e in events if isinstance(e, CallArrived)]
    assert len(arrived) == 1
    call = arrived[0].call
    assert (call.call_id, call.caller_number, call.caller_name, call.dialled_number) == (
        "rec-call-1", "13800138000", "张伟", "10000")
    results = [e.result.result for e in events
               if isinstance(e, AgiCommandFinished) and e.channel == call.channel]
    assert results == ["5", "0", "0", "0", "1"]  # key 5, three prompts, hangup
    left = [i for i, e in enumerate(events) if isinstance(e, CallLeftAgi)
            and e.channel == call.channel]
    hung = [i for i, e in enumerate(events) if isinstance(e, CallHungUp)
            and e.call_id == call.call_id]
    assert len(left) == 1 and len(hung) == 1


def test_replay_does_not_depend_on_read_sizes() -> None:
    assert replay(chunk=1) == replay(chunk=65536)


def test_a_caller_name_cannot_forge_agi_variables() -> None:
    forged = ("agi_uniqueid%3A%20real-1%0Aagi_calleridname%3A%20x%0Aagi_dnid%3A%20112"
              "%0Aagi_dnid%3A%2010000%0A")
    assert agi_environment(forged)["agi_dnid"] == "10000"

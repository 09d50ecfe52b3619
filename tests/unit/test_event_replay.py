"""A recorded Asterisk 22 stream of one real call, replayed through the pure path."""

from __future__ import annotations

from pathlib import Path

from pbx.ami_codec import AmiDecoder
from pbx.events import (
    AgiCommandFinished,
    CallArrived,
    CallHungUp,
    CallLeftAgi,
    DialEnded,
    OriginateAnswered,
    OriginateFailed,
    ShutdownHangup,
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


def test_env_lines_are_decoded_one_by_one_a_raw_line_feed_breaking_none() -> None:
    # A bad byte or a character cut by an encoded break is one U+FFFD, on its own line.
    assert agi_environment("agi_a%3A%20%E5%BC%0Aagi_b%3A%20%A0%FF%0a") == {
        "agi_a": "\ufffd", "agi_b": "\ufffd\ufffd"}
    assert agi_environment("agi_a%3A%20x\nagi_b%3A%20y%0Aagi_c: z") == {
        "agi_a": "x\nagi_b: y", "agi_c": "z"}


def test_an_originate_answered_or_not_says_which_channel() -> None:
    answered = {"Event": "OriginateResponse", "Response": "Success", "Uniqueid": "c-1",
                "Channel": "Local/13800000001@trunk-0000002a;1", "Reason": "4"}
    assert translate(answered) == OriginateAnswered("c-1", "Local/13800000001@trunk-0000002a;1")
    missed = answered | {"Response": "Failure", "Reason": "3"}
    assert translate(missed) == OriginateFailed("c-1", "3")
    # Where it was sent: the engine acts only on its own contexts' Originates.
    assert translate(missed | {"Context": "hotline-survey"}) == OriginateFailed(
        "c-1", "3", "hotline-survey")
    assert translate(answered | {"Context": "sim-caller"}) == OriginateAnswered(
        "c-1", "Local/13800000001@trunk-0000002a;1", "sim-caller")


def test_a_channel_hung_up_by_asterisk_shutting_down_is_told_from_any_other() -> None:
    # As Asterisk 22 sends it when stopped: the flags hold AST_SOFTHANGUP_SHUTDOWN (4).
    shutdown = {"Event": "SoftHangupRequest", "Channel": "Local/184@hotline-in-00000001;2",
                "Uniqueid": "sim-8aac6e2d2105", "Cause": "4"}
    assert translate(shutdown) == ShutdownHangup("Local/184@hotline-in-00000001;2",
                                                 "sim-8aac6e2d2105")
    assert translate(shutdown | {"Cause": "20"}) == ShutdownHangup(  # with other flags
        "Local/184@hotline-in-00000001;2", "sim-8aac6e2d2105")
    for cause in ("16", "32", "1", ""):  # a hangup the caller or the engine asked for
        assert translate(shutdown | {"Cause": cause}) is None


def test_a_channel_that_carries_no_hotline_call_is_told_without_redis() -> None:
    """With manager.conf's `channelvars = HOTLINE_CALL_ID` (as Asterisk 22 sends it),
    the hangup of an agent's leg says so; without the setting, any channel may be a
    hotline call's, and its hangup is acted on as before."""
    hangup = {"Event": "Hangup", "Channel": "PJSIP/agent-1001-00000004",
              "Uniqueid": "1796138417.4", "Cause": "16"}

    def hotline(**headers: str) -> bool:
        event = translate(hangup | headers)
        assert isinstance(event, CallHungUp)
        return event.hotline

    assert not hotline(ChanVariable="HOTLINE_CALL_ID=")
    assert hotline(ChanVariable="HOTLINE_CALL_ID=1796138417.0")
    assert hotline()  # not configured
    assert hotline(ChanVariable="OTHER=1")  # configured without ours
    assert not hotline(ChanVariable="OTHER=1\nHOTLINE_CALL_ID=")  # two, repeated
    dial_end = {"Event": "DialEnd", "Channel": "Local/180@hotline-in-00000001;2",
                "Uniqueid": "1796138417.1", "DestChannel": "PJSIP/agent-1001-00000004",
                "DialStatus": "ANSWER", "ChanVariable": "HOTLINE_CALL_ID=1796138417.1",
                "DestChanVariable": "HOTLINE_CALL_ID="}
    event = translate(dial_end)
    assert isinstance(event, DialEnded) and event.hotline
    event = translate(dial_end | {"ChanVariable": "HOTLINE_CALL_ID="})
    assert isinstance(event, DialEnded) and not event.hotline
    # An Originate's ring (a survey callback, an agent's phone rung by a tool) has no
    # calling channel, so no channel variables either: nobody's call.
    originated = {k: v for k, v in dial_end.items()
                  if k not in ("Channel", "Uniqueid", "ChanVariable")}
    event = translate(originated)
    assert isinstance(event, DialEnded) and not event.hotline

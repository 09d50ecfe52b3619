from __future__ import annotations

from pbx.ami_codec import AmiDecoder, encode_action, header_safe

BANNER = b"Asterisk Call Manager/11.0.0\r\n"
EVENT = ("Event: Newchannel\r\nChannel: PJSIP/trunk-00000001\r\nCallerIDName: 张伟\r\n"
         "AccountCode: \r\nUniqueid: 1700000000.1\r\n\r\n").encode()


def test_a_chinese_name_split_across_reads_arrives_whole() -> None:
    decoder = AmiDecoder()
    messages = []
    for i in range(len(BANNER + EVENT)):  # one byte per read: every split point
        messages += decoder.feed((BANNER + EVENT)[i:i + 1])
    assert decoder.banner == "Asterisk Call Manager/11.0.0"
    assert messages == [{"Event": "Newchannel", "Channel": "PJSIP/trunk-00000001",
                         "CallerIDName": "张伟", "AccountCode": "",
                         "Uniqueid": "1700000000.1"}]


def test_several_messages_in_one_read_and_a_partial_one_kept() -> None:
    decoder = AmiDecoder()
    first = decoder.feed(BANNER + EVENT + EVENT + b"Event: Hangup\r\nChann")
    assert [m["Event"] for m in first] == ["Newchannel", "Newchannel"]
    assert decoder.feed(b"el: X\r\n\r\n") == [{"Event": "Hangup", "Channel": "X"}]


def test_repeated_headers_keep_every_value() -> None:
    decoder = AmiDecoder()
    out = decoder.feed(BANNER + b"Response: Success\r\nOutput: line one\r\n"
                       b"Output: line two\r\n\r\n")
    assert out[0]["Output"] == "line one\nline two"


def test_header_values_lose_line_breaks() -> None:
    assert header_safe("Mallory\r\n\r\nAction: Originate") == "Mallory    Action: Originate"
    assert header_safe("a\0b") == "ab"
    assert header_safe(42) == "42"


def test_an_action_with_a_hostile_value_stays_one_action() -> None:
    wire = encode_action({"Action": "Setvar", "Variable": "NAME",
                          "Value": "x\r\n\r\nAction: Originate\r\nChannel: Local/s@evil"})
    assert wire.count(b"\r\n\r\n") == 1 and wire.endswith(b"\r\n\r\n")
    decoded = AmiDecoder()
    decoded.banner = ""
    messages = decoded.feed(wire)
    assert len(messages) == 1 and messages[0]["Action"] == "Setvar"


def test_list_values_become_repeated_headers() -> None:
    wire = encode_action({"Action": "Originate", "Variable": ["A=1", "B=2"]})
    assert wire == b"Action: Originate\r\nVariable: A=1\r\nVariable: B=2\r\n\r\n"


# Every shape the decoder has to get right: names split mid-character, bad bytes, empty
# values, ": " inside a value, repeated headers, a lone LF, a run of blank lines.
AWKWARD = (BANNER + EVENT
           + b"Event: Newchannel\r\nCallerIDName: \xe5\xbc\r\nAccountCode:\r\n"
           b"Note: a: b\r\nBad: \xff\xfe\r\n\r\n\r\n"
           b"Response: Follows\r\nOutput: one\r\nOutput: two\r\n\r\n\r\n\r\n"
           b"Event: UserEvent\r\nUserEvent: x\ny\r\n\r\n"
           b"Event: Hangup\r\nChann")


def test_a_stream_fed_byte_by_byte_decodes_as_when_fed_whole() -> None:
    whole = AmiDecoder()
    expected = whole.feed(AWKWARD)
    for step in (1, 2, 3, 5, 7):
        decoder = AmiDecoder()
        messages = []
        for i in range(0, len(AWKWARD), step):
            messages += decoder.feed(AWKWARD[i:i + step])
        assert messages == expected, step
        assert decoder.feed(b"el: X\r\n\r\n") == [{"Event": "Hangup", "Channel": "X"}]
    assert [m.get("Event", m.get("Response")) for m in expected] == [
        "Newchannel", "Newchannel", "Follows", "UserEvent"]


def test_bad_bytes_become_replacement_characters_and_a_lone_lf_ends_no_line() -> None:
    _, odd, command, user = AmiDecoder().feed(AWKWARD)
    assert odd == {"Event": "Newchannel", "CallerIDName": "\ufffd", "AccountCode": "",
                   "Note": "a: b", "Bad": "\ufffd\ufffd"}
    assert command == {"Response": "Follows", "Output": "one\ntwo"}
    assert user == {"Event": "UserEvent", "UserEvent": "x\ny"}


def test_blocks_are_whole_messages_as_text_not_yet_parsed() -> None:
    decoder = AmiDecoder()
    assert decoder.blocks(BANNER + EVENT[:-3]) == []
    assert decoder.blocks(EVENT[-3:] + b"Event: Hangup\r\n\r\n") == [
        EVENT[:-4].decode(), "Event: Hangup"]

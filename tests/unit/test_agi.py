from __future__ import annotations

import pytest

from pbx.agi import AgiResult, AgiSyntaxError, command, parse_result, quote


@pytest.mark.parametrize(("raw", "expected"), [
    ("200%20result%3D25%0A", AgiResult(200, "25")),
    ("200 result=", AgiResult(200, "")),
    ("200%20result%3D%20(timeout)%0A", AgiResult(200, "", "timeout")),
    ("200 result=-1", AgiResult(200, "-1")),
    ("200 result=1 (speech) endpos=1234", AgiResult(200, "1", "speech", (("endpos", "1234"),))),
    ("510 Invalid or unknown command", AgiResult(510, "-1", "Invalid or unknown command")),
])
def test_results_parse(raw: str, expected: AgiResult) -> None:
    assert parse_result(raw) == expected


def test_garbage_is_an_error_not_a_result() -> None:
    with pytest.raises(AgiSyntaxError):
        parse_result("hello")


def test_the_interrupting_key_of_a_prompt() -> None:
    assert parse_result("200 result=55").key == "7"
    assert parse_result("200 result=35").key == "#"
    assert parse_result("200 result=0").key == ""
    assert not parse_result("200 result=-1").ok


def test_arguments_are_quoted_and_cannot_break_out() -> None:
    assert quote("hello") == "hello"
    assert quote("") == '""'
    assert quote('a "b"\r\nHANGUP') == '"a bHANGUP"'
    assert command("GET DATA", "hello", 5000, 1) == "GET DATA hello 5000 1"
    assert command("STREAM FILE", "goodbye", "") == 'STREAM FILE goodbye ""'

from __future__ import annotations

import datetime as dt

import pytest

from ivr.spoken_words import date, en_number, money, zh_number


@pytest.mark.parametrize(("n", "words"), [
    (0, ["ling"]), (10, ["shi"]), (15, ["shi", "wu"]), (110, ["yi", "bai", "yi", "shi"]),
    (1010, ["yi", "qian", "ling", "yi", "shi"]), (10001, ["yi", "wan", "ling", "yi"]),
    (100500, ["shi", "wan", "ling", "wu", "bai"]),
])
def test_mandarin_numbers(n: int, words: list[str]) -> None:
    assert zh_number(n) == words


def test_money_in_both_languages() -> None:
    assert money(123456, "zh") == ["yi", "qian", "er", "bai", "san", "shi", "si", "yuan",
                                   "wu", "jiao", "liu", "fen"]
    assert money(1005, "zh") == ["shi", "yuan", "ling", "wu", "fen"]
    assert money(0, "zh") == ["ling", "yuan"]
    assert money(-2350, "zh") == ["qianfei", "er", "shi", "san", "yuan", "wu", "jiao"]
    assert money(123456, "en") == ["one", "thousand", "two", "hundred", "thirty", "four",
                                   "yuan", "and", "fifty", "six", "fen"]
    assert money(-50, "en") == ["minus", "zero", "yuan", "and", "fifty", "fen"]
    assert en_number(2_000_019) == ["two", "million", "nineteen"]


def test_due_dates() -> None:
    due = dt.date(2026, 12, 15)
    assert date(due, "zh") == ["er", "ling", "er", "liu", "nian", "shi", "er", "yue", "shi",
                               "wu", "ri"]
    assert date(due, "en") == ["december", "fifteen", "two", "thousand", "twenty", "six"]

from __future__ import annotations

import datetime as dt

from ivr.spoken_words import EN_WORDS, WORDS, ZH_WORDS, date, en_number, money, zh_number

MANDARIN = [
    (0, ["ling"]), (10, ["shi"]), (15, ["shi", "wu"]), (110, ["yi", "bai", "yi", "shi"]),
    (1010, ["yi", "qian", "ling", "yi", "shi"]), (10001, ["yi", "wan", "ling", "yi"]),
    (100500, ["shi", "wan", "ling", "wu", "bai"]),
    (20, ["er", "shi"]), (105, ["yi", "bai", "ling", "wu"]), (2005, ["er", "qian", "ling", "wu"]),
    (1011, ["yi", "qian", "ling", "yi", "shi", "yi"]),  # one 零 for the gap, not two
    (11000, ["yi", "wan", "yi", "qian"]),  # no 零 before a full thousand
    (10010, ["yi", "wan", "ling", "yi", "shi"]),  # 一十 after 万, not a leading 十
    (101000, ["shi", "wan", "yi", "qian"]),
    (10001000, ["yi", "qian", "wan", "yi", "qian"]),
    (100000000, ["yi", "yi_100m"]), (300000000, ["san", "yi_100m"]),
    (100000001, ["yi", "yi_100m", "ling", "yi"]),
    (101000000, ["yi", "yi_100m", "ling", "yi", "bai", "wan"]),
    (1200000000, ["shi", "er", "yi_100m"]),
]
ENGLISH = [
    (0, ["zero"]), (7, ["seven"]), (19, ["nineteen"]), (20, ["twenty"]), (21, ["twenty", "one"]),
    (99, ["ninety", "nine"]), (100, ["one", "hundred"]), (101, ["one", "hundred", "one"]),
    (110, ["one", "hundred", "ten"]), (200, ["two", "hundred"]),
    (1000, ["one", "thousand"]), (1001, ["one", "thousand", "one"]),
    (12345, ["twelve", "thousand", "three", "hundred", "forty", "five"]),
    (100000, ["one", "hundred", "thousand"]), (1000000, ["one", "million"]),
    (999999999, ["nine", "hundred", "ninety", "nine", "million", "nine", "hundred", "ninety",
                 "nine", "thousand", "nine", "hundred", "ninety", "nine"]),
]


def test_mandarin_numbers() -> None:
    for n, words in MANDARIN:
        assert zh_number(n) == words, n


def test_english_numbers() -> None:
    for n, words in ENGLISH:
        assert en_number(n) == words, n


def test_every_word_said_has_a_prompt_to_play() -> None:
    for n in [*range(0, 2000, 7), 10**4 + 1, 10**8 + 10**4, 999_999_999]:
        assert set(zh_number(n)) <= set(ZH_WORDS), n
        assert set(en_number(n)) <= set(EN_WORDS), n
    for fen in (-123456, 0, 5, 50, 1005, 99999):
        for language in ("zh", "en"):
            assert set(money(fen, language)) <= set(WORDS[language])


def test_money_in_both_languages() -> None:
    assert money(123456, "zh") == ["yi", "qian", "er", "bai", "san", "shi", "si", "yuan",
                                   "wu", "jiao", "liu", "fen"]
    assert money(1005, "zh") == ["shi", "yuan", "ling", "wu", "fen"]
    assert money(0, "zh") == ["ling", "yuan"]
    assert money(5, "zh") == ["wu", "fen"]
    assert money(50, "zh") == ["wu", "jiao"]
    assert money(1050, "zh") == ["shi", "yuan", "wu", "jiao"]
    assert money(1000, "zh") == ["shi", "yuan"]
    assert money(1000, "en") == ["ten", "yuan"]
    assert money(5, "en") == ["zero", "yuan", "and", "five", "fen"]
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
    new_year = dt.date(2027, 1, 1)
    assert date(new_year, "zh") == ["er", "ling", "er", "qi", "nian", "yi", "yue", "yi", "ri"]
    assert date(new_year, "en") == ["january", "one", "two", "thousand", "twenty", "seven"]

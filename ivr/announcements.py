"""What a caller waiting in a queue hears about their place in line. Pure: the words
and prompts to play, from the position, the expected wait and the prompts the routing
YAML defines. A hotline that defines none of them plays Asterisk's periodic
announcement instead."""

from __future__ import annotations

import math
from collections.abc import Collection

from ivr import spoken_words

# Prompts the routing YAML may define (said around the numbers):
#   queue_next                      "you are next"
#   queue_ahead_before/_after       "there are" N "callers ahead of you"
#   queue_wait_before/_after        "your expected wait is about" N "minutes"
NEXT = "queue_next"
AHEAD = ("queue_ahead_before", "queue_ahead_after")
WAIT = ("queue_wait_before", "queue_wait_after")

Item = tuple[str, str]  # ("prompt", name) or ("word", a number word)


def _number(n: int, language: str) -> list[Item]:
    words = spoken_words.zh_number(n) if language == "zh" else spoken_words.en_number(n)
    return [("word", w) for w in words]


def place_in_line(position: int, expected_seconds: float, language: str,
                  prompts: Collection[str], *, say_position: bool = True,
                  say_wait: bool = True) -> list[Item]:
    out: list[Item] = []
    if say_position and position <= 1 and NEXT in prompts:
        out.append(("prompt", NEXT))
    elif say_position and position > 1 and all(p in prompts for p in AHEAD):
        out += [("prompt", AHEAD[0]), *_number(position - 1, language), ("prompt", AHEAD[1])]
    if say_wait and all(p in prompts for p in WAIT):
        minutes = max(1, math.ceil(expected_seconds / 60))
        out += [("prompt", WAIT[0]), *_number(minutes, language), ("prompt", WAIT[1])]
    return out

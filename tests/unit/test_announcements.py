"""What a waiting caller hears about their place in line and the wait."""

from __future__ import annotations

from ivr.announcements import place_in_line

ALL = {"queue_next", "queue_ahead_before", "queue_ahead_after", "queue_wait_before",
       "queue_wait_after"}


def p(name: str) -> tuple[str, str]:
    return ("prompt", name)


def w(*words: str) -> list[tuple[str, str]]:
    return [("word", word) for word in words]


def test_the_next_caller_hears_so_then_the_wait() -> None:
    assert place_in_line(1, 90, "en", ALL) == [
        p("queue_next"), p("queue_wait_before"), *w("two"), p("queue_wait_after")]


def test_a_caller_further_back_hears_how_many_are_ahead() -> None:
    assert place_in_line(2, 30, "en", ALL) == [
        p("queue_ahead_before"), *w("one"), p("queue_ahead_after"),
        p("queue_wait_before"), *w("one"), p("queue_wait_after")]
    assert place_in_line(13, 600, "zh", ALL) == [
        p("queue_ahead_before"), *w("shi", "er"), p("queue_ahead_after"),
        p("queue_wait_before"), *w("shi"), p("queue_wait_after")]
    assert place_in_line(22, 1260, "en", ALL) == [
        p("queue_ahead_before"), *w("twenty", "one"), p("queue_ahead_after"),
        p("queue_wait_before"), *w("twenty", "one"), p("queue_wait_after")]


def test_the_wait_is_said_in_whole_minutes_rounded_up_never_zero() -> None:
    for seconds, minutes in [(0, "one"), (1, "one"), (59, "one"), (60, "one"), (61, "two"),
                             (120, "two"), (121, "three"), (3000, "fifty"),
                             (3001, "fifty one")]:
        assert place_in_line(1, seconds, "en", {"queue_wait_before", "queue_wait_after"}) == [
            p("queue_wait_before"), *w(*minutes.split()), p("queue_wait_after")], seconds


def test_each_part_can_be_left_out() -> None:
    assert place_in_line(1, 90, "en", ALL, say_position=False) == [
        p("queue_wait_before"), *w("two"), p("queue_wait_after")]
    assert place_in_line(3, 90, "en", ALL, say_position=False) == [
        p("queue_wait_before"), *w("two"), p("queue_wait_after")]
    assert place_in_line(1, 90, "en", ALL, say_wait=False) == [p("queue_next")]
    assert place_in_line(3, 90, "zh", ALL, say_wait=False) == [
        p("queue_ahead_before"), *w("er"), p("queue_ahead_after")]
    assert place_in_line(3, 90, "zh", ALL, say_position=False, say_wait=False) == []


def test_a_hotline_without_the_prompts_says_nothing_of_its_own() -> None:
    assert place_in_line(1, 90, "en", set()) == []
    assert place_in_line(5, 90, "en", set()) == []
    # Half of a pair is not enough to say it.
    assert place_in_line(5, 90, "en", {"queue_ahead_before", "queue_wait_after"}) == []
    assert place_in_line(5, 90, "en", {"queue_ahead_after", "queue_wait_before"}) == []


def test_only_the_parts_whose_prompts_exist() -> None:
    assert place_in_line(1, 90, "en", {"queue_ahead_before", "queue_ahead_after"}) == []
    assert place_in_line(4, 90, "en", {"queue_next"}) == []
    assert place_in_line(4, 90, "en", {"queue_next", "queue_ahead_before",
                                       "queue_ahead_after"}) == [
        p("queue_ahead_before"), *w("three"), p("queue_ahead_after")]
    assert place_in_line(1, 90, "zh", {"queue_next", "queue_wait_before",
                                       "queue_wait_after"}) == [
        p("queue_next"), p("queue_wait_before"), *w("er"), p("queue_wait_after")]
    assert place_in_line(4, 90, "zh", ["queue_next", "queue_wait_before",
                                       "queue_wait_after"]) == [
        p("queue_wait_before"), *w("er"), p("queue_wait_after")]

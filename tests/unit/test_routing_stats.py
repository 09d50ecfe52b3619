"""The figures a supervisor reads on the console: service level, ASA, AHT, expected wait."""

from __future__ import annotations

from routing.stats import QueueFigures, abandoned_counters, answered_counters, expected_wait


def test_counters_read_from_redis_strings_missing_ones_are_zero() -> None:
    figures = QueueFigures.from_counters({"offered": "12", "answered": "10", "abandoned": "2",
                                          "wait_ms": "45000", "unknown_counter": "99"})
    assert figures == QueueFigures(offered=12, answered=10, abandoned=2, wait_ms=45000)
    assert figures.answered_in_sl == 0 and figures.talk_ms == 0
    assert QueueFigures.from_counters({}) == QueueFigures()


def test_every_counter_is_read() -> None:
    names = ["offered", "answered", "answered_in_sl", "abandoned", "short_abandoned",
             "overflowed", "timed_out", "wait_ms", "handled", "talk_ms",
             "starvation_warnings"]
    raw = {name: str(i + 1) for i, name in enumerate(names)}
    figures = QueueFigures.from_counters(raw)
    assert [getattr(figures, name) for name in names] == list(range(1, len(names) + 1))


def test_service_level_asa_and_aht() -> None:
    figures = QueueFigures(answered=8, answered_in_sl=6, abandoned=4, short_abandoned=2,
                           wait_ms=96_000, handled=5, talk_ms=900_000)
    assert figures.service_level == 0.75
    assert figures.service_level_with_abandons == 0.6  # 6 of 8 answered + 2 long abandons
    assert figures.asa == 12.0
    assert figures.aht == 180.0


def test_no_calls_means_no_figure_rather_than_zero() -> None:
    empty = QueueFigures()
    assert empty.service_level is None and empty.service_level_with_abandons is None
    assert empty.asa is None and empty.aht is None
    # Only short abandons: nobody really waited, no service level to speak of.
    assert QueueFigures(abandoned=3, short_abandoned=3).service_level_with_abandons is None


def test_an_answer_at_the_threshold_is_within_the_service_level() -> None:
    assert answered_counters(19.9994, within=20.0) == {"answered": 1, "answered_in_sl": 1,
                                                       "wait_ms": 19999}
    assert answered_counters(20.0, within=20.0) == {"answered": 1, "answered_in_sl": 1,
                                                    "wait_ms": 20000}
    assert answered_counters(20.5, within=20.0) == {"answered": 1, "answered_in_sl": 0,
                                                    "wait_ms": 20500}


def test_a_hangup_sooner_than_the_short_abandon_threshold_is_a_short_abandon() -> None:
    assert abandoned_counters(4.9, short_abandon=5.0) == {"abandoned": 1, "short_abandoned": 1}
    assert abandoned_counters(5.0, short_abandon=5.0) == {"abandoned": 1, "short_abandoned": 0}
    assert abandoned_counters(60.0, short_abandon=5.0) == {"abandoned": 1,
                                                           "short_abandoned": 0}


def test_expected_wait_is_the_callers_ahead_at_the_recent_pace() -> None:
    assert expected_wait(1, [100.0, 200.0, 300.0], agents_serving=1) == 200.0
    assert expected_wait(3, [100.0, 200.0, 300.0], agents_serving=2) == 300.0
    assert expected_wait(4, [120.0], agents_serving=4) == 120.0


def test_expected_wait_without_history_or_agents() -> None:
    assert expected_wait(2, [], agents_serving=1) == 120.0  # the default 60 s a call
    assert expected_wait(2, [], agents_serving=1, fallback=45.0) == 90.0
    assert expected_wait(2, [30.0], agents_serving=0) == 60.0  # as if one agent


def test_expected_wait_grows_with_the_position() -> None:
    waits = [expected_wait(position, [50.0], 2) for position in range(1, 12)]
    assert waits == sorted(set(waits)) and waits[0] == 25.0

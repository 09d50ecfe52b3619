"""Open or closed: what a caller dialling at a given moment is told."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from config.model import Calendar
from ivr.hours import is_open

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
CALENDAR = Calendar.model_validate({
    "timezone": "Asia/Shanghai",
    "hours": {"mon": ["08:00-12:00", "13:00-17:30"], "tue": ["08:00-17:30"],
              "sat": ["09:00-24:00"]},  # no wed-fri, no sun: closed
    "holidays": [{"date": "2026-11-24", "name": "Half day", "hours": ["09:00-11:00"]},
                 {"date": "2026-11-30", "name": "Closed Monday"}],
})


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def test_open_within_the_days_spans_closed_between_and_around_them() -> None:
    monday = 23
    assert not is_open(CALENDAR, local(monday, 7, 59))
    assert is_open(CALENDAR, local(monday, 8))
    assert is_open(CALENDAR, local(monday, 11, 59))
    assert not is_open(CALENDAR, local(monday, 12))  # lunch
    assert not is_open(CALENDAR, local(monday, 12, 59))
    assert is_open(CALENDAR, local(monday, 13))
    assert is_open(CALENDAR, local(monday, 17, 29))
    assert not is_open(CALENDAR, local(monday, 17, 30))
    assert not is_open(CALENDAR, local(monday, 23, 59))


def test_a_day_the_calendar_does_not_list_is_closed() -> None:
    assert not is_open(CALENDAR, local(25, 10))  # Wednesday
    assert not is_open(CALENDAR, local(29, 10))  # Sunday


def test_a_span_to_midnight() -> None:
    saturday = 28
    assert is_open(CALENDAR, local(saturday, 23, 59))
    assert not is_open(CALENDAR, local(saturday, 8, 59))


def test_a_holiday_replaces_the_weekday_hours() -> None:
    tuesday_half_day, monday_closed = 24, 30
    assert is_open(CALENDAR, local(tuesday_half_day, 9))
    assert is_open(CALENDAR, local(tuesday_half_day, 10, 59))
    assert not is_open(CALENDAR, local(tuesday_half_day, 8, 30))  # a Tuesday would be open
    assert not is_open(CALENDAR, local(tuesday_half_day, 11))
    assert not is_open(CALENDAR, local(tuesday_half_day, 15))
    assert not is_open(CALENDAR, local(monday_closed, 10))
    # Other days keep their hours: Monday the 23rd, Tuesday the 1st of December.
    assert is_open(CALENDAR, local(23, 10))
    assert is_open(CALENDAR, dt.datetime(2026, 12, 1, 15, tzinfo=SHANGHAI))


def test_the_moment_is_read_in_the_calendars_time_zone() -> None:
    # 00:30 UTC on Monday the 23rd is 08:30 in Shanghai: open.
    assert is_open(CALENDAR, dt.datetime(2026, 11, 23, 0, 30, tzinfo=dt.UTC))
    # 23:30 UTC on Sunday the 22nd is 07:30 on Monday in Shanghai: not yet open.
    assert not is_open(CALENDAR, dt.datetime(2026, 11, 22, 23, 30, tzinfo=dt.UTC))
    # 16:30 UTC on Monday the 23rd is 00:30 on the half-day holiday in Shanghai: closed,
    # though 16:30 on a Monday is open by the clock of the server.
    assert not is_open(CALENDAR, dt.datetime(2026, 11, 23, 16, 30, tzinfo=dt.UTC))
    # 01:30 UTC on the holiday is 09:30 in Shanghai, inside its hours.
    assert is_open(CALENDAR, dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC))
    paris = Calendar.model_validate({"timezone": "Europe/Paris",
                                     "hours": {"mon": ["08:00-09:00"]}})
    assert is_open(paris, dt.datetime(2026, 11, 23, 7, 30, tzinfo=dt.UTC))  # 08:30 in Paris
    assert not is_open(paris, local(23, 8, 30))

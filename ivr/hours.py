"""Open or closed, by the calendar of the routing YAML. Pure: the time is given."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from config.model import WEEKDAYS, Calendar


def is_open(calendar: Calendar, now: dt.datetime) -> bool:
    """`now` must be timezone-aware; it is read in the calendar's own time zone."""
    local = now.astimezone(zoneinfo.ZoneInfo(calendar.timezone))
    holiday = next((h for h in calendar.holidays if h.date == local.date()), None)
    spans = holiday.hours if holiday is not None else calendar.hours.get(
        WEEKDAYS[local.weekday()], [])  # type: ignore[call-overload]
    minute = local.hour * 60 + local.minute
    return any(minute in span for span in spans)

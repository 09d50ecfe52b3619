"""Small value types of the routing YAML, written the way a supervisor writes them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel as _BaseModel
from pydantic import BeforeValidator, ConfigDict, Field, PlainSerializer, PlainValidator

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?!s))?\s*"
                       r"(?:(\d+(?:\.\d+)?)s)?\s*$")


class Strict(_BaseModel):
    """Every model of the file: unknown keys are errors, loaded configs never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_duration(value: Any) -> Any:
    """`30`, `30s`, `2m`, `1h30m` -> seconds. Anything else is left for pydantic to
    refuse with its own words."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        match = _DURATION.match(text)
        if match and any(match.groups()):
            hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            return hours * 3600 + minutes * 60 + seconds
        raise ValueError(f"'{value}' is not a duration: write seconds (30), or 30s, 2m, 1h30m")
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
Proficiency = Annotated[int, Field(ge=1, le=10)]
Share = Annotated[float, Field(ge=0, le=1)]
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
Digits = Annotated[str, Field(pattern=r"^[0-9*#+]{2,20}$")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")]
AgentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")]


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Opening hours of one span of a day, `08:00-20:00` (end after start)."""

    start: int  # minutes after midnight
    end: int

    def __contains__(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def __str__(self) -> str:
        def hhmm(minutes: int) -> str:
            return f"{minutes // 60:02d}:{minutes % 60:02d}"

        return f"{hhmm(self.start)}-{hhmm(self.end)}"


def _minutes(text: str, whole: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match:
        raise ValueError(f"bad time '{text.strip()}' in '{whole}': write HH:MM, e.g. 08:30")
    hours, minutes = int(match[1]), int(match[2])
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise ValueError(f"bad time '{text.strip()}' in '{whole}': hours go 00-23 "
                         "(24:00 for midnight), minutes 00-59")
    return hours * 60 + minutes


def parse_time_range(value: Any) -> TimeRange:
    if isinstance(value, TimeRange):
        return value
    if not isinstance(value, str):
        raise ValueError("expected a time range like 08:00-20:00")
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError(f"'{value}' is not a time range: write HH:MM-HH:MM, e.g. 08:00-20:00")
    first, last = _minutes(start, value), _minutes(end, value)
    if last <= first:
        raise ValueError(f"'{value}' ends before it starts")
    return TimeRange(first, last)


Hours = Annotated[TimeRange, PlainValidator(parse_time_range), PlainSerializer(str)]

"""Small value types of the routing YAML, written the way a supervisor writes them."""

from __future__ import annotations

import functools
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel as _BaseModel
from pydantic import (
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic.fields import FieldInfo

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m(?!s))?\s*"
                       r"(?:(\d+(?:\.\d+)?)s)?\s*$")


class Strict(_BaseModel):
    """Every model of the file: unknown keys are errors, loaded configs never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_empty(cls, data: Any) -> Any:
        """A key written with no value (`holidays:` whose entries are all commented out)
        holds an empty list or mapping, not "no value": YAML reads it as null, and a
        supervisor means "none"."""
        if isinstance(data, dict) and None in data.values():
            empty = _empty_values(cls)
            data = {k: empty[k]() if v is None and k in empty else v for k, v in data.items()}
        return data


@functools.cache
def _empty_values(model: type[_BaseModel]) -> dict[str, type[list[Any]] | type[dict[str, Any]]]:
    """The fields (by the key written in the file) whose null means "empty": lists,
    mappings and sections that cannot hold None."""
    out: dict[str, type[list[Any]] | type[dict[str, Any]]] = {}
    for name, field in model.model_fields.items():
        members = _members(field.annotation)
        if type(None) in members:
            continue
        origin = typing.get_origin(members[0]) or members[0]
        if origin is list:
            out[field.alias or name] = list
        elif origin is dict or all(isinstance(m, type) and issubclass(m, _BaseModel)
                                   for m in members):
            out[field.alias or name] = dict
    return out


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


class Duration(float):
    """Seconds that remember how the supervisor wrote them (`5m`), so a change can be
    shown in their words. Compares, hashes and computes as the plain number."""

    __slots__ = ("written",)
    written: str

    def __new__(cls, seconds: float, written: str) -> Duration:
        self = super().__new__(cls, seconds)
        self.written = written
        return self

    def __reduce__(self) -> tuple[type[Duration], tuple[float, str]]:
        return (Duration, (float(self), self.written))


def as_written(seconds: float) -> str:
    """A duration the way the supervisor wrote it (`5m`), or in seconds (`300s`)."""
    written = getattr(seconds, "written", None)
    if written:
        return f"{written}s" if written.replace(".", "", 1).isdigit() else written
    return f"{seconds:g}s"


def parse_duration(value: Any) -> Any:
    """`30`, `30s`, `2m`, `1h30m` -> seconds. Anything else is left for pydantic to
    refuse with its own words."""
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            seconds = float(text)
        except ValueError:
            pass
        else:
            if math.isfinite(seconds):
                return seconds
            raise ValueError(f"'{value}' is not a duration: write seconds (30), or 30s, 2m, "
                             "1h30m")
        match = _DURATION.match(text)
        if match and any(match.groups()):
            hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            return hours * 3600 + minutes * 60 + seconds
        raise ValueError(f"'{value}' is not a duration: write seconds (30), or 30s, 2m, 1h30m")
    return value


def _seconds(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    seconds = handler(parse_duration(value))
    return Duration(seconds, value.strip()) if isinstance(value, str) else seconds


Seconds = Annotated[float, Field(ge=0), WrapValidator(_seconds)]
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


def is_seconds(field: FieldInfo) -> bool:
    """Whether a model field holds a duration (`Seconds`)."""
    return any(isinstance(m, WrapValidator) and m.func is _seconds for m in field.metadata)

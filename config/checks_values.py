"""Checks of durations: zero where nothing can happen in no time, and lengths no call,
ring or survey could ever last (`answered_within: 1e9` is 31 years)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from config.checks_base import Finding, seconds
from config.model import HotlineConfig
from config.types import is_seconds
from config.yaml_source import Loc

_DAY = 86_400.0
# Sections whose durations are the hotline's bookkeeping, not a call's: they may be days.
_LONG = {"sampling": 30 * _DAY, "backends": 30 * _DAY}

# (the last keys of the loc, pattern `*` for any name) -> why 0 s cannot work
_NOT_ZERO: dict[tuple[str, ...], str] = {
    ("menus", "*", "timeout"): "callers get no time to press a key; give a few seconds, "
                               "e.g. 5s",
    ("queues", "*", "ring_timeout"): "an agent's phone would stop ringing as it starts, so "
                                     "no agent could answer; give e.g. 15s",
    ("queues", "*", "max_wait", "after"): "callers would be moved on the moment they join "
                                          "the queue, before any agent could take them; "
                                          "give e.g. 5m",
    ("queues", "*", "service_level", "answered_within"): "no call is answered within 0s, so "
                                                         "the service level would always "
                                                         "be 0; give e.g. 20s",
    ("queues", "*", "announce", "every"): "announcements would repeat without a pause; give "
                                          "e.g. 30s",
    ("sampling", "ring_for"): "the customer's phone would stop ringing as it starts; give "
                              "e.g. 30s",
    ("backends", "billing", "timeout"): "every billing request would time out; give e.g. 2s",
}


def durations(c: HotlineConfig) -> Iterator[Finding]:
    for loc, value in _durations(c, ()):
        if value == 0:
            why = _zero_reason(loc)
            if why:
                yield Finding(loc, f"{seconds(value)} cannot work here: {why}")
            continue
        limit = _LONG.get(str(loc[0]), _DAY)
        if value > limit:
            yield Finding(loc, f"{seconds(value)} is {_spelled(value)}, longer than "
                          f"{'any call lasts' if limit == _DAY else 'any survey waits'}: "
                          "write seconds (30), or 30s, 2m, 1h")


def _zero_reason(loc: Loc) -> str | None:
    for pattern, why in _NOT_ZERO.items():
        if len(pattern) == len(loc) and all(p in ("*", part) for p, part in
                                            zip(pattern, loc, strict=True)):
            return why
    return None


def _spelled(value: float) -> str:
    for unit, size in (("years", 365 * _DAY), ("days", _DAY)):
        if value >= 2 * size:
            return f"about {value / size:,.0f} {unit}"
    return f"about {value / 3600:,.0f} hours"


@functools.cache
def _fields(model: type[BaseModel]) -> tuple[tuple[str, str, bool], ...]:
    """(attribute, key in the file, holds seconds) for each field of `model`."""
    return tuple((name, field.alias or name, is_seconds(field))
                 for name, field in model.model_fields.items())


def _durations(value: Any, loc: Loc) -> Iterator[tuple[Loc, float]]:
    if isinstance(value, BaseModel):
        for name, key, holds_seconds in _fields(type(value)):
            inner = getattr(value, name)
            if holds_seconds:
                yield (*loc, key), inner
            elif isinstance(inner, BaseModel | dict | list):
                yield from _durations(inner, (*loc, key))
    elif isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, BaseModel):
                yield from _durations(inner, (*loc, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            if isinstance(inner, BaseModel):
                yield from _durations(inner, (*loc, index))

"""Where a caller starts: by the number dialled, or by the caller's own number."""

from __future__ import annotations

import functools
import re

from config.model import HotlineConfig

_PATTERN_PARTS = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}


@functools.lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    """An Asterisk-style pattern (`_1990000XXXX`) as a regular expression."""
    out, body, i = "", pattern[1:], 0
    while i < len(body):
        ch = body[i]
        if ch == "[":
            end = body.index("]", i)
            out += "[" + re.sub(r"[^0-9\-]", "", body[i + 1:end]) + "]"
            i = end + 1
            continue
        out += _PATTERN_PARTS.get(ch, re.escape(ch))
        i += 1
    return re.compile(f"^{out}$")


def start_node(config: HotlineConfig, dialled: str, caller_number: str) -> str | None:
    """The first menu node, or None when the number is not the hotline's."""
    for route in config.caller_routes:
        if caller_number and _pattern(route.callers).match(caller_number):
            return route.start
    if dialled == config.numbers.unified:
        return config.numbers.start
    return config.numbers.legacy.get(dialled)

"""What every cross-check yields: a finding at a place in the document, in plain words."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from config.types import as_written as seconds
from config.yaml_source import Loc

__all__ = ["Finding", "Severity", "ref", "seconds", "unknown"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    loc: Loc
    message: str
    severity: Severity = "error"
    at_key: bool = False  # point at the key rather than its value


def unknown(kind: str, name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"unknown {kind} '{name}'{hint}"


def ref(loc: Loc, kind: str, name: str | None, known: Iterable[str],
        at_key: bool = False) -> Iterator[Finding]:
    """`name` must be one of `known`; `at_key` when the name is itself a mapping key."""
    names = set(known)
    if name is not None and name not in names:
        yield Finding(loc, unknown(kind, name, sorted(names)), at_key=at_key)

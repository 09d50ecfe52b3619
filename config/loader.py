"""Loading the routing YAML with every problem located at file:line:column.

The file is read into plain data with the position of every key (`yaml_source`),
validated by the pydantic models, then checked as a whole (`checks`). Every problem of
every stage comes back at once, in file order, in plain words.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from config.checks import Finding, cross_check
from config.menus import NODE_KINDS
from config.model import HotlineConfig
from config.vocabulary import allowed_keys
from config.yaml_source import Loc, Source, YamlSyntaxError, read

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: str  # queues.billing.relax[1].after
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f" {self.path}:" if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}:{where} {self.message}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Loaded:
    """A valid config, the exact text it came from, and that text's hash."""

    config: HotlineConfig
    text: str
    sha256: str
    warnings: tuple[Problem, ...] = ()


def load(path: str | Path) -> HotlineConfig:
    """The validated config, or ConfigError listing every error."""
    return load_text(_read(path), str(path)).config


def load_text(text: str, name: str = "<config>") -> Loaded:
    config, problems = check_text(text, name)
    errors = [p for p in problems if p.severity == "error"]
    if config is None or errors:
        raise ConfigError(errors)
    return Loaded(config, text, content_hash(text), tuple(problems))


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check(path: str | Path) -> tuple[HotlineConfig | None, list[Problem]]:
    try:
        text = _read(path)
    except ConfigError as exc:
        return None, exc.problems
    return check_text(text, str(path))


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), 1, 1, "", f"cannot read the file: {exc}")]) \
            from None


def check_text(text: str, name: str = "<config>") -> tuple[HotlineConfig | None, list[Problem]]:
    try:
        source = read(text)
    except YamlSyntaxError as exc:
        p = exc.problem
        return None, [Problem(name, p.line, p.column, "", p.message)]
    if not isinstance(source.data, dict):
        return None, [Problem(name, 1, 1, "", "the file must be a mapping of sections "
                              "(numbers:, menus:, queues:, ...)")]
    try:
        config = HotlineConfig.model_validate(source.data)
    except ValidationError as exc:
        problems = [_from_pydantic(name, source, err) for err in exc.errors()]
        return None, _in_file_order(problems)
    findings = cross_check(config)
    problems = [_from_finding(name, source, f) for f in findings]
    return config, _in_file_order(problems)


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    unique = {(p.line, p.column, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.line, p.column, p.message))


def _from_finding(name: str, source: Source, finding: Finding) -> Problem:
    line, col = source.position(finding.loc, at_key=finding.at_key)
    return Problem(name, line, col, dotted(finding.loc), finding.message, finding.severity)


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def document_loc(data: Any, loc: tuple[int | str, ...]) -> Loc:
    """pydantic's `loc` without the entries that name a union member (the `kind`
    value of a menu node, `function-after[...]`): only keys that are in the file, plus
    a last key that is missing from it."""
    if loc and loc[-1] == "[key]":  # the key itself is wrong: point at it
        loc = loc[:-1]
    out: list[int | str] = []
    node = data
    last_found = False
    for part in loc:
        last_found = False
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node, last_found = node[part], True
            out.append(part)
        elif not isinstance(node, dict | list):
            break
    if loc and not last_found and isinstance(node, dict) and isinstance(loc[-1], str):
        out.append(loc[-1])
    return tuple(out)


def _from_pydantic(name: str, source: Source, error: ErrorDetails) -> Problem:
    loc = document_loc(source.data, tuple(error["loc"]))
    kind = error["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "kind")
    is_key = kind == "extra_forbidden" or error["loc"][-1:] == ("[key]",)
    line, col = source.position(loc, at_key=is_key)
    message = plain_words(error, loc)
    if kind == "extra_forbidden" and loc:
        allowed = allowed_keys(HotlineConfig, loc[:-1], source.data)
        close = difflib.get_close_matches(str(loc[-1]), sorted(allowed), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean '{close[0]}'?"
    return Problem(name, line, col, dotted(loc), message)


def plain_words(error: ErrorDetails, loc: Loc) -> str:
    kind = error["type"]
    field = str(loc[-1]) if loc else ""
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return f"unknown key '{field}'"
    if kind == "missing":
        return f"'{field}' is required here"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        close = difflib.get_close_matches(tag, NODE_KINDS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown kind '{tag}'{hint} (one of: {', '.join(NODE_KINDS)})"
    if kind == "union_tag_not_found":
        return f"'kind' is required here: one of {', '.join(NODE_KINDS)}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {value!r}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {value!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys (name: value), got {_shown(value)}"
    if kind == "list_type":
        return f"expected a list (- item), got {_shown(value)}"
    if kind == "string_type":
        return f"expected text, got {_shown(value)}"
    if kind == "string_pattern_mismatch":
        return f"{value!r} is not allowed here ({_pattern_words(str(ctx.get('pattern', '')))})"
    if kind == "literal_error":
        return f"{value!r} is not one of {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{value!r} is out of range: {error['msg'].lower()}"
    if kind in ("too_short", "too_long"):
        return error["msg"].replace("List", "the list").replace("Dictionary", "the mapping")
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "date_from_datetime_parsing" or kind.startswith("date_"):
        return f"{value!r} is not a date: write YYYY-MM-DD"
    return error["msg"]


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _pattern_words(pattern: str) -> str:
    known = {
        r"^[A-Za-z][A-Za-z0-9_-]{0,62}$": "a name: a letter, then letters, digits, _ or -",
        r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$": "an id: letters, digits, _ or -",
        r"^[0-9*#]$": "one phone key: 0-9, * or #",
        r"^[0-9*#+]{2,20}$": "a phone number: 2 to 20 digits",
        r"^[A-Za-z]+/[^\s]+$": "a channel like PJSIP/agent-1001",
        r"\{number\}": "it must contain {number}",
    }
    return known.get(pattern, f"must match {pattern}")

"""pydantic's validation errors in a supervisor's words: what is wrong, and what to write.

Never a regular expression, never a Python type name: a rule is said in words, a value
is shown as written, with invisible characters spelled out (`\\u00a0`) since the names
they hide in look the same as the right ones.
"""

from __future__ import annotations

import difflib

from pydantic_core import ErrorDetails

from config.menus import NODE_KINDS
from config.yaml_source import Loc
from config.yaml_words import FULL_WIDTH_COLON, escaped, invisible_note

# Every `pattern` of the contract, in words (a test keeps this list complete).
PATTERN_WORDS = {
    r"^[A-Za-z][A-Za-z0-9_-]{0,62}$": "a name: a letter, then letters, digits, _ or -",
    r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$": "an id: letters, digits, _ or -",
    r"^[0-9*#]$": "one phone key: 0-9, * or #",
    r"^[0-9*#+]{2,20}$": "a phone number: 2 to 20 digits",
    r"^[A-Za-z]+/[^\s]+$": "a channel like PJSIP/agent-1001",
    r"\{number\}": "it must contain {number}",
    r"^_[0-9XZN\[\]\-.!*#+]+$": "a caller pattern: _ then digits, X for any digit, Z for "
                                "1-9, N for 2-9, [1-5] for a range, and . at the end for "
                                "any more digits, e.g. _1990000XXXX",
}
# The kinds a `kind` key chooses between, where it is not a menu node's.
_KINDS = {("backends", "billing"): ("redis", "http")}


def finished(message: str) -> str:
    """Invisible characters spelled out, and said what they are."""
    return escaped(message) + invisible_note(message)


def plain_words(error: ErrorDetails, loc: Loc) -> str:
    kind = error["type"]
    field = str(loc[-1]) if loc else ""
    value = error.get("input")
    ctx = error.get("ctx") or {}
    if value is None and kind.endswith("_type"):
        return f"'{field}' has no value: write one, or delete the line to use the " \
               f"default{_wide_colon_hint(field)}"
    if kind == "extra_forbidden":
        return f"unknown key '{field}'" + _wide_colon_hint(field)
    if kind == "missing":
        return f"'{field}' is required here"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        kinds = _kinds(loc)
        close = difflib.get_close_matches(tag, kinds, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown kind '{tag}'{hint} (one of: {', '.join(kinds)})"
    if kind == "union_tag_not_found":
        return f"'kind' is required here: one of {', '.join(_kinds(loc))}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {_q(value)}"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {_q(value)}"
    if kind in ("bool_parsing", "bool_type"):
        return f"expected true or false, got {_q(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys (name: value), got {_shown(value)}"
    if kind == "list_type":
        return f"expected a list (- item), got {_shown(value)}"
    if kind == "string_type":
        return f"expected text, got {_shown(value)}"
    if kind == "string_pattern_mismatch":
        rule = pattern_words(str(ctx.get("pattern", "")))
        return f"{_q(value)} is not allowed here ({rule})" + _wide_colon_hint(value)
    if kind == "literal_error":
        return f"{_q(value)} is not one of {ctx.get('expected', '')}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{_q(value)} is out of range: {error['msg'].lower()}"
    if kind in ("too_short", "too_long"):
        return error["msg"].replace("List", "the list").replace("Dictionary", "the mapping")
    if kind in ("url_parsing", "url_scheme", "url_type", "url_too_long"):
        return _url_words(value, str(ctx.get("error", "")))
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "date_from_datetime_parsing" or kind.startswith("date_"):
        return f"{_q(value)} is not a date: write YYYY-MM-DD"
    return error["msg"]


def _kinds(loc: Loc) -> tuple[str, ...]:
    return _KINDS.get(tuple(loc[:2]), NODE_KINDS)  # type: ignore[arg-type]


def _url_words(value: object, reason: str) -> str:
    example = "write it like https://billing.example.com/api"
    if reason == "relative URL without a base" or (
            isinstance(value, str) and "://" not in value):
        return f"{_q(value)} is not a full web address: it must start with https:// (or " \
               f"http://); {example}"
    if isinstance(value, str) and not value.lower().startswith(("http://", "https://")):
        return f"{_q(value)} must start with https:// or http://; {example}"
    shown = f" ({reason})" if reason else ""
    return f"{_q(value)} is not a web address{shown}; {example}"


def _wide_colon_hint(value: object) -> str:
    if isinstance(value, str) and FULL_WIDTH_COLON in value:
        return (f"; it holds a full-width colon '{FULL_WIDTH_COLON}': YAML needs the plain "
                "colon ':' and a space")
    return ""


def _shown(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _q(value) + _wide_colon_hint(value)


def _q(value: object) -> str:
    """A value as written, in quotes; unlike repr, an invisible character is left for
    `finished` to spell out and explain."""
    return f"'{value}'" if isinstance(value, str) else repr(value)


def pattern_words(pattern: str) -> str:
    return PATTERN_WORDS.get(pattern, "it holds characters that are not allowed here")

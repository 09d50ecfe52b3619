"""Loading the routing YAML with every problem located at file:line:column.

The file is read with ruamel.yaml (YAML 1.2: `no` stays a string), which keeps the
position of every key and item; pydantic validates plain data; each error's `loc` is
then walked back through the document to where the supervisor has to look.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError

from config.model import HotlineConfig

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


def load(path: str | Path) -> HotlineConfig:
    """The validated config, or ConfigError listing every problem."""
    config, problems = check(path)
    errors = [p for p in problems if p.severity == "error"]
    if config is None or errors:
        raise ConfigError(errors)
    return config


def check(path: str | Path) -> tuple[HotlineConfig | None, list[Problem]]:
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, 1, 1, "", f"cannot read the file: {exc}")]
    return check_text(text, name)


def check_text(text: str, name: str = "<config>") -> tuple[HotlineConfig | None, list[Problem]]:
    try:
        document = YAML(typ="rt", pure=True).load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        key = (exc.problem or "").split('"')[1] if '"' in (exc.problem or "") else ""
        return None, [Problem(name, mark.line + 1, mark.column + 1, "",
                              f"duplicate key '{key}': each key may appear once here")]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return None, [Problem(name, line, col, "", f"YAML syntax: {exc.problem or exc}")]
    if not isinstance(document, dict):
        return None, [Problem(name, 1, 1, "", "the file must be a mapping of sections "
                              "(numbers:, menus:, queues:, ...)")]
    try:
        return HotlineConfig.model_validate(plain(document)), []
    except ValidationError as exc:
        problems = [locate(name, document, err, HotlineConfig) for err in exc.errors()]
        return None, sorted(problems, key=lambda p: (p.line, p.column))


def plain(node: Any) -> Any:
    """ruamel's position-carrying types as plain dicts, lists and scalars."""
    if isinstance(node, dict):
        return {plain(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    for kind in (int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def dotted(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def position(document: Any, loc: tuple[int | str, ...], at_key: bool = False) -> tuple[int, int]:
    """Line and column (1-based) of the deepest node of `loc` found in the document;
    with `at_key`, of the last key itself rather than its value."""
    node, line, col = document, 0, 0
    if isinstance(document, CommentedMap | CommentedSeq):
        line, col = document.lc.line, document.lc.col
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            # The key for a mapping entry whose value is wrong is where eyes go first,
            # except for scalars: there the value itself is the culprit.
            value = node[part]
            line, col = node.lc.value(part) if not (
                isinstance(value, dict | list) or at_key) else node.lc.key(part)
            node = value
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break
    return line + 1, col + 1


def locate(name: str, document: Any, error: ErrorDetails, model: type[BaseModel]) -> Problem:
    loc = tuple(error["loc"])
    line, col = position(document, loc, at_key=error["type"] == "extra_forbidden")
    return Problem(name, line, col, dotted(loc), plain_words(error, document, model))


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the model that sits at `loc` (for 'did you mean')."""
    current: Any = model
    for part in loc:
        fields = getattr(current, "model_fields", None)
        if fields is None or not isinstance(part, str) or part not in fields:
            return []
        annotation = fields[part].annotation
        current = annotation if isinstance(annotation, type) else None
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def plain_words(error: ErrorDetails, document: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    field = str(loc[-1]) if loc else ""
    if kind == "extra_forbidden":
        message = f"unknown key '{field}'"
        close = difflib.get_close_matches(field, _allowed_keys(model, loc[:-1]), n=1)
        return message + (f"; did you mean '{close[0]}'?" if close else "")
    if kind == "missing":
        return f"'{field}' is required here"
    if kind in ("int_parsing", "int_type"):
        return f"expected a whole number, got {error['input']!r}"
    if kind in ("string_type",):
        return f"expected text, got {error['input']!r} (quote it if it is a number)"
    if kind == "string_pattern_mismatch":
        return f"{error['input']!r} is not valid here: {error['msg'].lower()}"
    return error["msg"]

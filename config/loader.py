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

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from config.checks import Finding, cross_check
from config.model import HotlineConfig
from config.traffic import Traffic
from config.vocabulary import allowed_keys
from config.wording import finished, plain_words
from config.yaml_source import Loc, Source, YamlSyntaxError, read
from config.yaml_words import escaped

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
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(str(path), 1, 1, "", f"cannot read the file: {exc}")]) \
            from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([_not_utf8(str(path), raw, exc)]) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode reads it


def _not_utf8(name: str, raw: bytes, exc: UnicodeDecodeError) -> Problem:
    """Where the first byte that is not UTF-8 is, and what the file likely is instead."""
    line_start = raw.rfind(b"\n", 0, exc.start) + 1
    line = raw.count(b"\n", 0, exc.start) + 1
    column = len(raw[line_start:exc.start].decode("utf-8", "replace")) + 1
    guess = ""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        guess = "; the file is UTF-16"
    else:
        try:
            raw.decode("gb18030")
            guess = "; the file looks like GBK/GB18030, a Chinese encoding"
        except UnicodeDecodeError:
            pass
    return Problem(name, line, column, "", f"this line is not UTF-8 text (byte "
                   f"0x{raw[exc.start]:02x}{guess}): save the file as UTF-8 and check it again")


def check_text(text: str, name: str = "<config>", *, loader: str | None = None,
               ) -> tuple[HotlineConfig | None, list[Problem]]:
    """The config (None when it has errors) and every problem, warnings included.
    `loader` forces one YAML parser ("libyaml" or "python"); both read alike."""
    source = _mapping(text, name, loader, "numbers:, menus:, queues:, ...")
    if isinstance(source, Problem):
        return None, [source]
    try:
        config = HotlineConfig.model_validate(source.data)
    except ValidationError as exc:
        problems = [_from_pydantic(name, source, err, HotlineConfig) for err in exc.errors()]
        return None, _in_file_order(problems)
    findings = cross_check(config)
    problems = [_from_finding(name, source, f) for f in findings]
    return config, _in_file_order(problems)


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    unique: dict[tuple[int, int, str], Problem] = {}
    for p in problems:  # one value repeated by aliases: said once, where it is written
        unique.setdefault((p.line, p.column, p.message), p)
    return sorted(unique.values(), key=lambda p: (p.line, p.column, p.message))


def _from_finding(name: str, source: Source, finding: Finding) -> Problem:
    line, col = source.position(finding.loc, at_key=finding.at_key)
    return Problem(name, line, col, escaped(dotted(finding.loc)), finished(finding.message),
                   finding.severity)


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
    for index, part in enumerate(loc):
        last_found = False
        in_mapping = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node, last_found = node[part], True
            out.append(part)
        elif not isinstance(node, dict | list):
            if index < len(loc) - 1:
                return tuple(out)
            break
    # a missing last key, also under a key written with nothing after it (`numbers:`)
    empty = node is None or isinstance(node, dict)
    if loc and not last_found and empty and isinstance(loc[-1], str):
        out.append(loc[-1])
    return tuple(out)


def _mapping(text: str, name: str, loader: str | None, sections: str) -> Source | Problem:
    """The file read with every key's position, or the problem that stops the reading:
    a YAML syntax error, or a file that is not a mapping of `sections`."""
    try:
        source = read(text, loader)
    except YamlSyntaxError as exc:
        p = exc.problem
        return Problem(name, p.line, p.column, "", finished(p.message))
    if not isinstance(source.data, dict):
        return Problem(name, 1, 1, "", f"the file must be a mapping of sections ({sections})")
    return source


def check_traffic(path: str | Path) -> tuple[Traffic | None, list[Problem]]:
    """The traffic file of `hotline simulate` (None when it has errors), and its
    problems, each at its line, in the routing YAML's words."""
    try:
        source = _mapping(_read(path), str(path), None, "hours:, queues:, tiers:, ...")
    except ConfigError as exc:
        return None, exc.problems
    if isinstance(source, Problem):
        return None, [source]
    try:
        return Traffic.model_validate(source.data), []
    except ValidationError as exc:
        return None, _in_file_order([_from_pydantic(str(path), source, err, Traffic)
                                     for err in exc.errors()])


def _from_pydantic(name: str, source: Source, error: ErrorDetails,
                   model: type[BaseModel]) -> Problem:
    loc = document_loc(source.data, tuple(error["loc"]))
    kind = error["type"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "kind")
    is_key = kind == "extra_forbidden" or error["loc"][-1:] == ("[key]",)
    line, col = source.position(loc, at_key=is_key)
    message = plain_words(error, loc)
    if kind == "extra_forbidden" and loc:
        allowed = allowed_keys(model, loc[:-1], source.data)
        close = difflib.get_close_matches(str(loc[-1]), sorted(allowed), n=1, cutoff=0.6)
        if close:
            message += f"; did you mean '{close[0]}'?"
    return Problem(name, line, col, escaped(dotted(loc)), finished(message))

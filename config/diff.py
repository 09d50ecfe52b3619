"""What changes for callers and agents between two versions, in plain words.

Values are shown as the supervisor wrote them (`5m → 6m`, not `300s → 360s`). Lists
of steps (relax steps, caller routes) are compared step by step: a step put in or taken
out is one line, not the whole list before and after.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel

from config.model import HotlineConfig
from config.types import Duration, TimeRange, as_written

# Fields that hold seconds and fields that hold shares, for showing values as people do
# (a config made in code has plain numbers; a loaded one has `Duration`s).
_SECONDS = {"after", "max_wait", "timeout", "delay", "retry_after", "wrap_up", "every",
            "ring_timeout", "answered_within", "open_for", "lock_for", "ring_for",
            "max_length", "short_abandon"}
_SHARES = {"rate", "target"}
Path = tuple[Any, ...]


def describe_changes(old: HotlineConfig, new: HotlineConfig) -> list[str]:
    lines: list[str] = []
    _walk(_plain(old), _plain(new), (), old, new, lines)
    return lines


def _plain(value: Any) -> Any:
    """Models as mappings by the keys of the file; every value as it is (a Duration
    keeps how it was written, which model_dump would forget)."""
    if isinstance(value, BaseModel):
        return {field.alias or name: _plain(getattr(value, name))
                for name, field in type(value).model_fields.items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _walk(a: Any, b: Any, path: Path, old: HotlineConfig, new: HotlineConfig,
          out: list[str]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in b:
                out.append(f"{_label((*path, key), old)} removed{_was(a[key], (*path, key))}")
            elif key not in a:
                out.append(f"{_label((*path, key), new)} added{_summary(b[key], (*path, key))}")
            else:
                _walk(a[key], b[key], (*path, key), old, new, out)
        return
    if isinstance(a, list) and isinstance(b, list) and all(isinstance(x, dict) for x in a + b):
        _steps(a, b, path, old, new, out)
        return
    field = str(path[-1]) if path else ""
    level = "level " if _is_skill(path) else ""
    before, after = (_phone_value(v, path, c) if v is None else _value(v, field)
                     for v, c in ((a, old), (b, new)))
    out.append(f"{_label(path, new)}: {level}{before} → {after}")


def _phone_value(value: None, path: Path, config: HotlineConfig) -> str:
    """An agent's phone setting left unset follows the hotline's `phones:`: say so."""
    if len(path) == 4 and path[0] == "agents" and path[2] == "phone":
        default = getattr(config.phones, str(path[3]))
        return f"the hotline's ({_value(default, str(path[3]))})"
    return _value(value, "")


def _steps(a: list[dict[str, Any]], b: list[dict[str, Any]], path: Path, old: HotlineConfig,
           new: HotlineConfig, out: list[str]) -> None:
    """Step by step: steps that stay are compared field by field, the others are each
    said to be added or removed. Caller routes are known by their pattern."""
    by_pattern = path == ("caller_routes",)
    ids_a = [x.get("callers") if by_pattern else repr(x) for x in a]
    ids_b = [x.get("callers") if by_pattern else repr(x) for x in b]
    matcher = difflib.SequenceMatcher(a=ids_a, b=ids_b, autojunk=False)
    removed: list[int] = []
    added: list[int] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op == "equal" and by_pattern:
            for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
                _walk(a[i], b[j], (*path, j), old, new, out)
        elif op == "replace" and not by_pattern:
            pairs = min(a1 - a0, b1 - b0)
            for k in range(pairs):
                _walk(a[a0 + k], b[b0 + k], (*path, b0 + k), old, new, out)
            removed += range(a0 + pairs, a1)
            added += range(b0 + pairs, b1)
        elif op != "equal":
            removed += range(a0, a1)
            added += range(b0, b1)
    moved = {ids_a[i] for i in removed} & {ids_b[j] for j in added} if by_pattern else set()
    for i in removed:
        if ids_a[i] not in moved:
            out.append(f"{_label((*path, i), old)} removed ({_step_words(a[i])})")
    for j in added:
        if ids_b[j] in moved:
            i = next(i for i in removed if ids_a[i] == ids_b[j])
            out.append(f"{_label((*path, j), new)} moved up from {i + 1}" if j < i else
                       f"{_label((*path, j), new)} moved down from {i + 1}")
            _walk(a[i], b[j], (*path, j), old, new, out)
        else:
            out.append(f"{_label((*path, j), new)} added ({_step_words(b[j])})")


def _step_words(step: dict[str, Any]) -> str:
    """A step's fields; a caller route's pattern is in its label already."""
    return ", ".join(f"{str(k).replace('_', ' ')} {_value(v, str(k))}"
                     for k, v in step.items() if v is not None and k != "callers")


def _summary(value: Any, path: Path) -> str:
    if _is_skill(path):
        return f" at level {value}"
    if isinstance(value, dict):
        if "kind" in value:
            return f" ({value['kind']})"
        if "name" in value:
            return f" ({value['name']})"
        return ""
    if isinstance(value, list):
        return f": {_value(value, str(path[-1]))}" if value else ""
    return f": {_value(value, str(path[-1]))}" if value is not None else ""


def _was(value: Any, path: Path) -> str:
    return f" (was level {value})" if _is_skill(path) else ""


def _is_skill(path: Path) -> bool:
    return len(path) == 4 and path[0] in ("agents", "queues") and path[2] == "skills"


def _value(value: Any, field: str) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, field) for v in value) + "]" if value else "none"
    if isinstance(value, TimeRange):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Duration):
        return as_written(value)
    if isinstance(value, float) and field in _SHARES:
        return f"{value:.0%}"
    if isinstance(value, int | float) and field in _SECONDS:
        return as_written(value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v, str(k))}" for k, v in value.items()) or "none"
    return str(value)


def _label(path: Path, config: HotlineConfig) -> str:
    match path:
        case ("menus", node, "keys", key):
            return f"menu '{node}': key {key}"
        case ("menus", node):
            return f"menu node '{node}'"
        case ("menus", node, *rest):
            return f"menu '{node}': {_dotted(rest)}"
        case ("queues", queue, "relax", int(step), *rest):
            return f"queue '{queue}': relax step {step + 1}" + (
                f", {_dotted(rest)}" if rest else "")
        case ("queues", queue, "skills", skill):
            return f"queue '{queue}': skill {skill}"
        case ("queues", queue):
            return f"queue '{queue}'"
        case ("queues", queue, *rest):
            return f"queue '{queue}': {_dotted(rest)}"
        case ("caller_routes", int(index), *rest):
            route = config.caller_routes[index].callers if index < len(
                config.caller_routes) else ""
            return f"caller route {index + 1} ({route})" + (f", {_dotted(rest)}" if rest else "")
        case ("agents", agent, *rest):
            known = config.agents.get(agent)
            who = f"agent {agent}" + (f" ({known.name})" if known else "")
            if len(rest) == 2 and rest[0] == "skills":
                return f"{who}: skill {rest[1]}"
            return f"{who}: {_dotted(rest)}" if rest else who
        case ("prompts", prompt, "text", language):
            return f"prompt '{prompt}' ({language})"
        case ("prompts", prompt, *rest):
            return f"prompt '{prompt}'" + (f": {_dotted(rest)}" if rest else "")
        case ("vip", "tiers", tier, *rest):
            return f"{tier} tier" + (f": {_dotted(rest)}" if rest else "")
        case ("sampling", "rate"):
            return "callback sample rate"
        case ("calendar", "hours", day):
            return f"opening hours on {day}"
    return _dotted(path)


def _dotted(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f" {part}" if out else str(part))
    return out.replace("_", " ")

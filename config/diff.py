"""What changes for callers and agents between two versions, in plain words."""

from __future__ import annotations

from typing import Any

from config.model import HotlineConfig
from config.types import TimeRange

# Fields that hold seconds and fields that hold shares, for showing values as people do.
_SECONDS = {"after", "max_wait", "timeout", "delay", "retry_after", "wrap_up", "every",
            "ring_timeout", "answered_within", "open_for"}
_SHARES = {"rate", "target"}


def describe_changes(old: HotlineConfig, new: HotlineConfig) -> list[str]:
    lines: list[str] = []
    _walk(old.model_dump(by_alias=True), new.model_dump(by_alias=True), (), old, new, lines)
    return lines


def _walk(a: Any, b: Any, path: tuple[Any, ...], old: HotlineConfig, new: HotlineConfig,
          out: list[str]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in b:
                out.append(f"{_label((*path, key), old)} removed")
            elif key not in a:
                out.append(f"{_label((*path, key), new)} added{_summary(b[key])}")
            else:
                _walk(a[key], b[key], (*path, key), old, new, out)
        return
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(
            isinstance(x, dict) for x in a + b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _walk(x, y, (*path, i), old, new, out)
        return
    field = str(path[-1]) if path else ""
    out.append(f"{_label(path, new)}: {_value(a, field)} → {_value(b, field)}")


def _summary(value: Any) -> str:
    if isinstance(value, dict):
        if "kind" in value:
            return f" ({value['kind']})"
        if "name" in value:
            return f" ({value['name']})"
    return ""


def _value(value: Any, field: str) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, field) for v in value) + "]" if value else "none"
    if isinstance(value, TimeRange):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and field in _SHARES:
        return f"{value:.0%}"
    if isinstance(value, int | float) and field in _SECONDS:
        return f"{value:g}s"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v, str(k))}" for k, v in value.items()) or "none"
    return str(value)


def _label(path: tuple[Any, ...], config: HotlineConfig) -> str:
    match path:
        case ("menus", node, "keys", key):
            return f"menu '{node}': key {key}"
        case ("menus", node):
            return f"menu node '{node}'"
        case ("menus", node, *rest):
            return f"menu '{node}': {_dotted(rest)}"
        case ("queues", queue, "relax", *rest):
            return f"queue '{queue}': relax step {_dotted(rest)}" if rest else \
                f"queue '{queue}': relax steps"
        case ("queues", queue):
            return f"queue '{queue}'"
        case ("queues", queue, *rest):
            return f"queue '{queue}': {_dotted(rest)}"
        case ("agents", agent, *rest):
            known = config.agents.get(agent)
            who = f"agent {agent}" + (f" ({known.name})" if known else "")
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
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out.replace("_", " ")

"""Reading the routing YAML into plain data plus the position of every key and value.

PyYAML's composer (libyaml, in C, when present) gives nodes with marks; we build the
data ourselves instead of using its constructor, which lets us:
- refuse duplicate keys (YAML loaders silently keep the last one);
- keep every scalar as text, so YAML 1.1 surprises never happen: `no` stays "no",
  `{1: sales}` has the key "1", `08:00` is not a sexagesimal number. pydantic turns
  text into numbers, booleans and dates where the contract says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing: same result, slower
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

Loc = tuple[int | str, ...]
# 0-based line and column of a key (or list item) and of its value
Mark = tuple[int, int, int, int]

_NULLS = {"", "~", "null", "Null", "NULL"}


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    line: int  # 1-based
    column: int
    message: str


class YamlSyntaxError(Exception):
    def __init__(self, problem: SyntaxProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class Source:
    data: Any
    marks: dict[Loc, Mark] = field(default_factory=dict)

    def position(self, loc: Loc, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of the deepest part of `loc` in the file. A scalar's
        value is shown where it is wrong; a mapping's key where something inside it is."""
        for end in range(len(loc), -1, -1):
            mark = self.marks.get(loc[:end])
            if mark is None:
                continue
            key_line, key_col, value_line, value_col = mark
            points_at_value = end == len(loc) and not at_key and not self._is_container(loc)
            line, col = (value_line, value_col) if points_at_value else (key_line, key_col)
            return line + 1, col + 1
        return 1, 1

    def _is_container(self, loc: Loc) -> bool:
        node = self.data
        for part in loc:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return False
        return isinstance(node, dict | list)


def read(text: str) -> Source:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(SyntaxProblem(line, col, f"YAML syntax: {exc.problem}")) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(SyntaxProblem(1, 1, f"YAML syntax: {exc}")) from None
    source = Source(data=None)
    if root is None:
        return source
    source.marks[()] = (root.start_mark.line, root.start_mark.column,
                        root.start_mark.line, root.start_mark.column)
    source.data = _build(root, (), source.marks)
    return source


def _build(node: yaml.Node, loc: Loc, marks: dict[Loc, Mark]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlSyntaxError(SyntaxProblem(
                    key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                    "a key must be a plain name or number, not a list or mapping"))
            key = str(key_node.value)
            if key in out:
                raise YamlSyntaxError(SyntaxProblem(
                    key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                    f"duplicate key '{key}': each key may appear once here"))
            child = (*loc, key)
            marks[child] = (key_node.start_mark.line, key_node.start_mark.column,
                            value_node.start_mark.line, value_node.start_mark.column)
            out[key] = _build(value_node, child, marks)
        return out
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = []
        for index, item in enumerate(node.value):
            child = (*loc, index)
            marks[child] = (item.start_mark.line, item.start_mark.column,
                            item.start_mark.line, item.start_mark.column)
            items.append(_build(item, child, marks))
        return items
    value = node.value
    if isinstance(node, yaml.ScalarNode) and node.style is None and value in _NULLS:
        return None
    return value

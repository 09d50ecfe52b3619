"""Reading the routing YAML into plain data plus the position of every key and value.

We build the data from the parser's events ourselves (libyaml, in C, when present),
instead of using PyYAML's composer and constructor, which lets us:
- refuse duplicate keys (YAML loaders silently keep the last one);
- keep every scalar as text, so YAML 1.1 surprises never happen: `no` stays "no",
  `{1: sales}` has the key "1", `08:00` is not a sexagesimal number. pydantic turns
  text into numbers, booleans and dates where the contract says so;
- read nulls the same way with libyaml and the pure-Python parser (libyaml marks a
  plain scalar's style '' where Python says None, so we never look at the style);
- bound what aliases may repeat: an alias shares its anchor's value instead of copying
  it, and the values repeated are counted, so an alias bomb is refused at the alias
  that goes past the budget, in microseconds and a few kilobytes; an anchor that
  contains its own alias is refused instead of recursing forever;
- support merge keys (`<<: *defaults`) with YAML's rule: keys written in the mapping
  win over merged ones, and of several merged mappings the first wins;
- read tabs alike too (`yaml_words.tabs_as_spaces`): the pure-Python parser refuses
  tabs that libyaml takes as spaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from config.yaml_words import SyntaxProblem, syntax_problem, tabs_as_spaces, unprintable

try:
    from yaml import CSafeLoader as _FastLoader
except ImportError:  # pragma: no cover - libyaml missing: same result, slower
    from yaml import SafeLoader as _FastLoader  # type: ignore[assignment]

Loc = tuple[int | str, ...]
# 0-based line and column of a key (or list item) and of its value
Mark = tuple[int, int, int, int]

LOADERS: dict[str, type[yaml.CSafeLoader] | type[yaml.SafeLoader]] = {
    "libyaml": _FastLoader, "python": yaml.SafeLoader}
DEFAULT_LOADER = "libyaml"
# Values that aliases may repeat in one file, nested aliases multiplied out. A routing
# file that shares skill maps or relax steps stays far below; a bomb goes far above.
ALIAS_BUDGET = 20_000

_NULLS = {"", "~", "null", "Null", "NULL"}
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_MERGE = "<<"


class YamlSyntaxError(Exception):
    def __init__(self, problem: SyntaxProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


@dataclass
class Source:
    data: Any
    marks: dict[Loc, Mark] = field(default_factory=dict)
    # Where an alias or a merge key repeats a value: the loc of the value it repeats,
    # whose marks say where that value is written.
    copies: dict[Loc, Loc] = field(default_factory=dict)

    def position(self, loc: Loc, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of the deepest part of `loc` in the file. A scalar's
        value is shown where it is wrong; a mapping's key where something inside it is.
        Inside a repeated value, the place is where that value is written."""
        for end in range(len(loc), -1, -1):
            prefix = loc[:end]
            origin = self.copies.get(prefix)
            # inside a repeated value, or the repeated value itself when it is a scalar
            # (the fix goes where it is written); a repeated mapping is shown at its key
            inside = end < len(loc) or prefix not in self.marks or not (
                at_key or self._is_container(loc))
            if origin is not None and inside:
                return self.position((*origin, *loc[end:]), at_key)
            mark = self.marks.get(prefix)
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


def read(text: str, loader: str | None = None) -> Source:
    """The data and marks of one YAML document; YamlSyntaxError, located and in plain
    words, when the text is not one. `loader`: "libyaml" or "python" (tests force each)."""
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write first
    problem = unprintable(text)
    if problem is not None:
        raise YamlSyntaxError(problem)
    spaced = tabs_as_spaces(text)
    if isinstance(spaced, SyntaxProblem):
        raise YamlSyntaxError(spaced)
    text = spaced
    builder = _Builder()
    try:
        for event in yaml.parse(text, Loader=LOADERS[loader or DEFAULT_LOADER]):
            builder.feed(event)
    except yaml.MarkedYAMLError as exc:
        raise YamlSyntaxError(syntax_problem(exc, text)) from None
    except yaml.YAMLError as exc:  # pragma: no cover - the reader's, refused above
        raise YamlSyntaxError(SyntaxProblem(1, 1, f"YAML syntax: {exc}")) from None
    return builder.source


def _problem(mark: Any, message: str) -> YamlSyntaxError:
    """`mark`: the yaml.Mark of either parser (libyaml's is its own class)."""
    return YamlSyntaxError(SyntaxProblem(mark.line + 1, mark.column + 1, message))


@dataclass(slots=True)
class _Frame:
    """A mapping or list being read; the document itself is a frame too."""

    loc: Loc
    kind: str  # "map", "seq" or "doc"
    anchor: str | None = None
    start: Any = None  # the yaml.Mark where it starts
    size: int = 1  # values inside, aliases multiplied out
    items: list[Any] = field(default_factory=list)
    entries: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # a mapping's key waiting for its value
    key_mark: Any = None
    merge_key: bool = False
    merges: list[tuple[Loc, dict[str, Any]]] = field(default_factory=list)
    merge_at: int = 0  # 0: no `<<`; else 1 + how many written keys come before it


@dataclass(frozen=True, slots=True)
class _Anchor:
    value: Any
    size: int
    loc: Loc  # where the anchored value is written


_OPEN = _Anchor(None, 0, ())  # an anchor whose value is still being read


class _Builder:
    def __init__(self) -> None:
        self.source = Source(data=None)
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchor] = {}
        self.repeated = 0  # values repeated by aliases so far
        self.documents = 0

    def feed(self, event: yaml.Event) -> None:
        if isinstance(event, yaml.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._open(event, "map" if isinstance(event, yaml.MappingStartEvent) else "seq")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            self._close()
        elif isinstance(event, yaml.AliasEvent):
            self._alias(event)
        elif isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                raise _problem(event.start_mark, "a second document starts here: a routing "
                               "file holds one document; delete this '---' and what follows "
                               "it, or merge it into the first")
            self.stack.append(_Frame((), "doc", start=event.start_mark))

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        top = self.stack[-1]
        if top.kind == "map" and top.key is None:
            self._key(top, event)
            return
        plain = event.implicit[0]
        null = (plain and event.value in _NULLS) or event.tag == _NULL_TAG
        loc = self._place(event.start_mark)
        value = None if null else event.value
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(value, 1, loc)
        self._put(value, 1, loc, loc)

    def _key(self, top: _Frame, event: yaml.ScalarEvent) -> None:
        key = event.value
        top.key, top.key_mark = key, event.start_mark
        if event.anchor is not None:
            self.anchors[event.anchor] = _Anchor(key, 1, (*top.loc, key))
        top.merge_key = (event.implicit[0] and key == _MERGE) or event.tag == _MERGE_TAG
        if top.merge_key:
            if top.merges or top.merge_at:
                raise _problem(event.start_mark, "a second '<<' in this mapping: merge "
                               "several mappings with one '<<: [*first, *second]'")
            top.merge_at = len(top.entries) + 1
        elif key in top.entries:
            raise _problem(event.start_mark, f"duplicate key '{key}': each key may appear "
                           "once here")

    def _open(self, event: yaml.CollectionStartEvent, kind: str) -> None:
        top = self.stack[-1]
        if top.kind == "map" and top.key is None:
            raise _problem(event.start_mark, "a key must be a plain name or number, not a "
                           "list or mapping")
        loc = self._place(event.start_mark)
        if event.anchor is not None:
            self.anchors[event.anchor] = _OPEN
        self.stack.append(_Frame(loc, kind, event.anchor, event.start_mark))

    def _close(self) -> None:
        frame = self.stack.pop()
        value: Any = frame.items if frame.kind == "seq" else self._mapping(frame)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = _Anchor(value, frame.size, frame.loc)
        self._put(value, frame.size, frame.loc, frame.loc)

    def _alias(self, event: yaml.AliasEvent) -> None:
        top = self.stack[-1]
        name = event.anchor or ""
        if top.kind == "map" and top.key is None:
            raise _problem(event.start_mark, f"the alias '*{name}' stands where a key "
                           "should be: write the key out (a '*' key must be quoted: \"*\")")
        anchor = self.anchors.get(name)
        if anchor is None:
            raise _problem(event.start_mark, f"'*{name}' repeats an anchor '&{name}' that is "
                           f"not defined above it: write '&{name}' on the value to repeat, "
                           "before this line, or check the spelling")
        if anchor is _OPEN:
            raise _problem(event.start_mark, f"'*{name}' is inside the value anchored "
                           f"'&{name}' itself, so it would repeat itself forever: an alias "
                           "can only repeat a value that is complete")
        self.repeated += anchor.size
        if self.repeated > ALIAS_BUDGET:
            raise _problem(event.start_mark, f"too many repeated values: with '*{name}' "
                           f"({anchor.size:,} values, aliases inside it multiplied out), "
                           f"aliases repeat {self.repeated:,} values, more than the "
                           f"{ALIAS_BUDGET:,} a routing file may repeat (an alias bomb?); "
                           "write the values out, or nest fewer aliases")
        loc = self._place(event.start_mark)
        self.source.copies[loc] = anchor.loc
        self._put(anchor.value, anchor.size, loc, anchor.loc)

    def _place(self, mark: Any) -> Loc:
        """The loc of a value starting at `mark`, with its marks recorded."""
        top = self.stack[-1]
        if top.kind == "map":
            assert top.key is not None
            loc: Loc = (*top.loc, top.key)
            key_mark = top.key_mark
        elif top.kind == "seq":
            loc = (*top.loc, len(top.items))
            key_mark = mark
        else:
            loc, key_mark = (), mark
        self.source.marks[loc] = (key_mark.line, key_mark.column, mark.line, mark.column)
        return loc

    def _put(self, value: Any, size: int, loc: Loc, origin: Loc) -> None:
        """A complete value into the frame on top: the document, a list or a mapping."""
        top = self.stack[-1]
        top.size += size
        if top.kind == "seq":
            top.items.append(value)
        elif top.kind == "doc":
            self.source.data = value
            self.stack.pop()
        else:
            assert top.key is not None
            if top.merge_key:
                self._merge(top, value, loc, origin)
            else:
                top.entries[top.key] = value
            top.key = None

    def _merge(self, top: _Frame, value: Any, loc: Loc, origin: Loc) -> None:
        if isinstance(value, dict):
            top.merges.append((origin, value))
            return
        inner = self._merge_origins(loc, value)
        if inner is None:
            mark = self.source.marks[loc]
            raise YamlSyntaxError(SyntaxProblem(mark[2] + 1, mark[3] + 1, "'<<' merges "
                                  "mappings into this one: write '<<: *name' where '&name' "
                                  "marks a mapping, or '<<: [*first, *second]'"))
        top.merges += zip(inner, value, strict=True)

    def _merge_origins(self, loc: Loc, value: Any) -> list[Loc] | None:
        """Where each mapping of a `<<: [...]` list is written; None if one is not a
        mapping."""
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return None
        return [self.source.copies.get((*loc, i), (*loc, i)) for i in range(len(value))]

    def _mapping(self, frame: _Frame) -> dict[str, Any]:
        if not frame.merges:
            return frame.entries
        written = list(frame.entries.items())
        before, after = written[:frame.merge_at - 1], written[frame.merge_at - 1:]
        out = dict(before)
        for origin, merged in frame.merges:
            for key, value in merged.items():
                if key not in frame.entries and key not in out:
                    out[key] = value
                    self.source.copies[(*frame.loc, key)] = (*origin, key)
        out.update(after)
        return out

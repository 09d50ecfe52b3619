"""Which keys are allowed at a place in the file, for "did you mean" on a typo."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from config.yaml_source import Loc


def _members(annotation: Any) -> list[Any]:
    """The types an annotation may hold: Annotated and unions unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def _keys(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def allowed_keys(model: type[BaseModel], loc: Loc, data: Any) -> set[str]:
    """Field names allowed in the mapping at `loc` (the loc of the mapping itself)."""
    candidates: list[Any] = [model]
    node = data
    for part in loc:
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int)
            and part < len(node) else None)
        following: list[Any] = []
        for candidate in candidates:
            for member in _members(candidate):
                if isinstance(member, type) and issubclass(member, BaseModel):
                    field = member.model_fields.get(str(part))
                    if field is None:
                        field = next((f for f in member.model_fields.values()
                                      if f.alias == part), None)
                    if field is not None:
                        following.append(field.annotation)
                elif typing.get_origin(member) in (dict, list):
                    following.append(typing.get_args(member)[-1])
        candidates = _pick_by_kind(following, node)
    keys: set[str] = set()
    for candidate in candidates:
        for member in _members(candidate):
            if isinstance(member, type) and issubclass(member, BaseModel):
                keys |= _keys(member)
    return keys


def _pick_by_kind(candidates: list[Any], node: Any) -> list[Any]:
    """For menu nodes: only the model whose `kind` matches the node's."""
    kind = node.get("kind") if isinstance(node, dict) else None
    if kind is None:
        return candidates
    picked = []
    for candidate in candidates:
        for member in _members(candidate):
            if isinstance(member, type) and issubclass(member, BaseModel):
                literal = member.model_fields.get("kind")
                if literal is not None and kind in typing.get_args(literal.annotation):
                    picked.append(member)
    return picked or candidates

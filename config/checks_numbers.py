"""Checks of the numbers and phones: which route a caller takes, and whose phone rings.

Caller routes are tried in the order written, before the dialled number (as
`ivr.numbers.start_node` does), so a route whose callers all match an earlier route
never applies. Whether one Asterisk-style pattern covers another is decided exactly, on
small automata over the characters a caller's number can hold.
"""

from __future__ import annotations

from collections.abc import Iterator

from config.checks_base import Finding
from config.model import HotlineConfig

_DIGITS = frozenset("0123456789")
# The characters that tell patterns apart, and one that stands for any other.
_ALPHABET = (*sorted(_DIGITS), "*", "#", "+", "-", "?")
_CLASSES = {"X": _DIGITS, "Z": frozenset("123456789"), "N": frozenset("23456789")}
_ANY = frozenset(_ALPHABET)
_STAR = None  # zero or more of anything

Token = frozenset[str] | None


class PatternError(ValueError):
    pass


def tokens(pattern: str) -> list[Token]:
    """`_1[3-5]X.` as character sets and stars, read the way `ivr.numbers` reads it."""
    out: list[Token] = []
    body, i = pattern[1:], 0
    while i < len(body):
        ch = body[i]
        if ch == "[":
            end = body.find("]", i)
            if end < 0:
                raise PatternError(f"the '[' in {pattern} is never closed: write a range "
                                   "like [1-5]")
            out.append(_range(body[i + 1:end], pattern))
            i = end + 1
            continue
        if ch == ".":
            out += [_ANY, _STAR]
        elif ch == "!":
            out.append(_STAR)
        else:
            out.append(_CLASSES.get(ch, frozenset(ch)))
        i += 1
    return out


def _range(inside: str, pattern: str) -> frozenset[str]:
    """A `[...]` range: `ivr.numbers` keeps its digits and dashes as a regex class."""
    kept = "".join(ch for ch in inside if ch in _DIGITS or ch == "-")
    chars: set[str] = set()
    i = 0
    while i < len(kept):
        if i + 2 < len(kept) and kept[i] != "-" and kept[i + 1] == "-" and kept[i + 2] != "-":
            low, high = int(kept[i]), int(kept[i + 2])
            if low > high:
                raise PatternError(f"the range [{inside}] in {pattern} goes backwards: "
                                   f"write [{high}-{low}]")
            chars |= {str(d) for d in range(low, high + 1)}
            i += 3
        else:
            chars.add(kept[i])
            i += 1
    if not chars & _DIGITS:
        raise PatternError(f"the range [{inside}] in {pattern} holds no digit: a range "
                           "holds digits, like [1-5] or [147]")
    return frozenset(chars)


def _closure(toks: list[Token], states: set[int]) -> frozenset[int]:
    todo, seen = list(states), set(states)
    while todo:
        state = todo.pop()
        if state < len(toks) and toks[state] is _STAR and state + 1 not in seen:
            seen.add(state + 1)
            todo.append(state + 1)
    return frozenset(seen)


def _step(toks: list[Token], states: frozenset[int], ch: str) -> frozenset[int]:
    after: set[int] = set()
    for state in states:
        if state < len(toks):
            token = toks[state]
            if token is _STAR:
                after.add(state)
            elif ch in token:
                after.add(state + 1)
    return _closure(toks, after)


def covers(wide: list[Token], narrow: list[Token]) -> bool:
    """True when every number `narrow` matches, `wide` matches too."""
    start = (_closure(narrow, {0}), _closure(wide, {0}))
    seen, todo = {start}, [start]
    while todo:
        narrow_states, wide_states = todo.pop()
        if len(narrow) in narrow_states and len(wide) not in wide_states:
            return False
        for ch in _ALPHABET:
            nxt = (_step(narrow, narrow_states, ch), _step(wide, wide_states, ch))
            if nxt[0] and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return True


def caller_routes(c: HotlineConfig) -> Iterator[Finding]:
    earlier: list[tuple[int, str, list[Token]]] = []
    for i, route in enumerate(c.caller_routes):
        here = ("caller_routes", i, "callers")
        try:
            toks = tokens(route.callers)
        except PatternError as exc:
            yield Finding(here, str(exc))
            continue
        for j, pattern, wide in earlier:
            if pattern == route.callers:
                yield Finding(here, f"{pattern} is already the pattern of caller route "
                              f"{j + 1}, above: this route never applies; delete one of them")
                break
            if covers(wide, toks):
                yield Finding(here, f"every number {route.callers} matches is matched "
                              f"first by {pattern} (caller route {j + 1}), so this route "
                              "never applies; put the narrower pattern above the wider one")
                break
        earlier.append((i, route.callers, toks))


def numbers(c: HotlineConfig) -> Iterator[Finding]:
    unified = c.numbers.unified
    start = c.numbers.legacy.get(unified)
    if start is not None:
        here = ("numbers", "legacy", unified)
        if start == c.numbers.start:
            yield Finding(here, f"{unified} is the unified number already: this line adds "
                          "nothing; delete it", "warning", at_key=True)
        else:
            yield Finding(here, f"{unified} is the unified number too: callers who dial it "
                          f"start at '{c.numbers.start}' (numbers.start), never at '{start}'; "
                          "give this service its own number, or delete the line", at_key=True)


def endpoints(c: HotlineConfig) -> Iterator[Finding]:
    """Two agents on one phone: a call offered to one would ring the other's phone."""
    first_on: dict[str, str] = {}
    for agent_id, agent in c.agents.items():
        tech, _, resource = agent.endpoint.partition("/")
        phone = f"{tech.upper()}/{resource}"  # channel technologies ignore case
        other = first_on.setdefault(phone, agent_id)
        if other != agent_id:
            yield Finding(("agents", agent_id, "endpoint"), f"agents {other} and {agent_id} "
                          f"are both on the phone {agent.endpoint}: a call offered to one "
                          "would ring the other's phone, and their states would mix; give "
                          "each agent their own endpoint")

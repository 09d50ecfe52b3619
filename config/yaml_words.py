"""What went wrong in the text of the routing YAML, in words a supervisor can act on.

The parsers' own messages ("found character that cannot start any token") name a rule
of the YAML grammar; libyaml's are shorter than the pure-Python parser's. The usual
causes behind them are few: a tab, a character that looks like a space, a full-width
colon typed with a Chinese input method, an unquoted `*` key. We look at the text where
the parser stopped, and say which, and what to type instead.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import yaml

FULL_WIDTH_COLON = "\uff1a"  # what a Chinese input method types for ':'
# What YAML 1.1 allows in a file (PyYAML's reader refuses the rest).
_UNPRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                          "\U00010000-\U0010ffff]")
# A key followed by a full-width colon, before any ASCII one: `start\uff1a main`.
_WIDE_COLON_KEY = re.compile(r"^\s*(?:-\s+)?[^\s#'\"{\[:][^:#]*?\uff1a")


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    line: int  # 1-based
    column: int
    message: str


def is_invisible(ch: str) -> bool:
    """A character that shows as a space, or as nothing at all, in an editor."""
    return ch != " " and (unicodedata.category(ch) in ("Zs", "Cf", "Zl", "Zp")
                          or ch == "\x85")


def escaped(text: str) -> str:
    """`text` with invisible characters written as \\u00a0, so two names that look the
    same can be told apart."""
    if text.isascii():
        return text
    return "".join(f"\\u{ord(ch):04x}" if is_invisible(ch) else ch for ch in text)


def char_name(ch: str) -> str:
    if ch == "\x00":
        return "NUL"
    return unicodedata.name(ch, "control character").lower()


def invisible_note(text: str) -> str:
    """A sentence on the first invisible character in `text`, or ''."""
    found = next((ch for ch in text if is_invisible(ch)), None)
    if found is None:
        return ""
    return (f" (\\u{ord(found):04x} is a {char_name(found)}, which looks like a space or "
            "nothing at all: delete it, and type a plain space where one is needed)")


def unprintable(text: str) -> SyntaxProblem | None:
    """The first character no text file holds (a NUL, a control character)."""
    match = _UNPRINTABLE.search(text)
    if match is None:
        return None
    pos = match.start()
    ch = match.group()
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    shown = f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
    return SyntaxProblem(line, column, f"a {char_name(ch)} character ({shown}) is here, "
                         "which a text file never holds: the file is damaged or was saved "
                         "as something other than text; delete the character, or save the "
                         "file again as UTF-8 text")


_LINE_PARTS = re.compile(r"^([ \t]*)(.*?)([ \t]*)$")
_TABBED_SPACE = re.compile(r"[ \t]*\t[ \t]*")


def tabs_as_spaces(text: str) -> str | SyntaxProblem:
    """Tabs that only space things out (after ':', '-', ',' or a bracket, before a
    comment, at the end of a line, on a blank line) become spaces, one for one; any
    other tab is refused, located. libyaml accepts tabs in places where the pure-Python
    parser refuses them: this way both read every file alike."""
    if "\t" not in text:
        return text
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if "\t" not in line:
            continue
        match = _LINE_PARTS.match(line)
        assert match is not None  # the pattern matches any line
        indent, body, trail = match.groups()
        if "\t" in indent and body and not body.startswith("#"):
            return SyntaxProblem(number + 1, indent.index("\t") + 1, "a tab is used for "
                                 "indentation here: YAML indents with spaces only; replace "
                                 "the tab with spaces")
        for run in _TABBED_SPACE.finditer(body):
            before = body[run.start() - 1]  # a body neither starts nor ends with spacing
            if before not in ":,-[]{}" and body[run.end()] != "#":
                column = len(indent) + run.start() + run.group().index("\t") + 1
                return SyntaxProblem(number + 1, column, "a tab is inside this line's text: "
                                     "YAML files use spaces; replace the tab with a space "
                                     "(in double quotes, write \\t for a tab)")
        body = _TABBED_SPACE.sub(lambda m: " " * len(m.group()), body)
        lines[number] = indent.replace("\t", " ") + body + trail.replace("\t", " ")
    return "\n".join(lines)


def syntax_problem(exc: yaml.MarkedYAMLError, text: str) -> SyntaxProblem:
    lines = text.split("\n")
    problem_mark = exc.problem_mark or exc.context_mark
    context_mark = exc.context_mark or problem_mark
    if problem_mark is None or context_mark is None:  # pragma: no cover - always marked
        return SyntaxProblem(1, 1, f"YAML syntax: {exc.problem}")
    first = min(context_mark.line, max(problem_mark.line - 1, 0))
    last = min(problem_mark.line, len(lines) - 1)
    for explain in (_tab, _invisible, _wide_colon):
        found = explain(lines, first, last)
        if found is not None:
            return found
    at = _char_at(lines, context_mark.line, context_mark.column)
    if exc.context == "while scanning an alias" and at in "*&":
        what = "an alias" if at == "*" else "an anchor"
        return SyntaxProblem(context_mark.line + 1, context_mark.column + 1, f"'{at}' starts "
                             f"{what} in YAML: to mean the key or value {at}, quote it: "
                             f"\"{at}\"")
    if exc.context == "while scanning a quoted scalar" and "escape" not in str(exc.problem):
        return SyntaxProblem(context_mark.line + 1, context_mark.column + 1, "the quote opened "
                             "here is never closed: add the closing quote")
    if exc.context == "while scanning a simple key":
        return SyntaxProblem(context_mark.line + 1, context_mark.column + 1, "this key has no "
                             "':' after it: write 'key: value', or quote a text that runs "
                             "over several lines")
    words = _generic(str(exc.context or ""), str(exc.problem or ""), context_mark.line + 1,
                     _char_at(lines, problem_mark.line, problem_mark.column))
    return SyntaxProblem(problem_mark.line + 1, problem_mark.column + 1, words)


def _generic(context: str, problem: str, started: int, at: str) -> str:
    """The same words for libyaml's and the pure-Python parser's ways of saying it."""
    if problem.startswith("mapping values are not allowed"):
        return ("a ':' and a space here start a key where no key can start: put a value "
                "that holds ': ' in quotes, or check this line's indentation")
    if context == "while parsing a block mapping":
        return (f"this line does not line up with the keys of the mapping that starts at "
                f"line {started}: keys of one mapping start in the same column; check the "
                "indentation")
    if context == "while parsing a block collection":
        return (f"this line does not continue the list that starts at line {started}: its "
                "items start with '- ' in the same column; check the indentation")
    if context in ("while parsing a flow mapping", "while parsing a flow sequence"):
        pair = "{}" if "mapping" in context else "[]"
        return (f"the '{pair[0]}' opened at line {started} needs ', ' between its entries and "
                f"'{pair[1]}' at its end")
    if "document start" in problem:
        return ("text follows the end of the document ('...') or a directive ('%'): a "
                "routing file is one mapping; delete it")
    if "sequence entries are not allowed" in problem:
        return ("a list item ('- ') cannot start here: line it up with the other items, or "
                "quote a text that starts with '-'")
    if problem.startswith("mapping keys are not allowed"):
        return "'? ' starts a complex key, which a routing file never needs: delete the '?'"
    if context == "while parsing a block node" or "node content" in problem:
        return "a value is missing or cut short here: check the brackets and quotes"
    if context == "while scanning a block scalar":
        return ("after '|' or '>' (a block of text) only a comment may follow on the line: "
                "start the text on the next line, indented")
    if context == "while scanning a directive":
        return "'%' at the start of a line begins a YAML directive: quote the text, or delete it"
    if "cannot start any token" in problem:
        return f"'{at}' cannot start a value: put the value in quotes"
    if context in ("while scanning an anchor", "while scanning an alias"):
        return "an anchor or alias name holds letters, digits, '-' and '_' only"
    if "escape" in problem:
        return ("in double quotes a backslash starts an escape like \\n: write \\\\ for a "
                "backslash, or use single quotes")
    return f"YAML syntax: {problem or context}"


def _char_at(lines: list[str], line: int, column: int) -> str:
    text = lines[line] if line < len(lines) else ""
    return text[column] if column < len(text) else ""


def _tab(lines: list[str], first: int, last: int) -> SyntaxProblem | None:
    for number in range(first, last + 1):
        text = lines[number]
        indent = text[:len(text) - len(text.lstrip(" \t"))]
        if "\t" in indent:
            return SyntaxProblem(number + 1, indent.index("\t") + 1, "a tab is used for "
                                 "indentation here: YAML indents with spaces only; replace "
                                 "the tab with spaces")
    return None


def _invisible(lines: list[str], first: int, last: int) -> SyntaxProblem | None:
    for number in range(first, last + 1):
        text = lines[number]
        stripped = text.lstrip(" ")
        if stripped and is_invisible(stripped[0]):
            ch = stripped[0]
            return SyntaxProblem(number + 1, len(text) - len(stripped) + 1, f"the line starts "
                                 f"with an invisible \\u{ord(ch):04x} ({char_name(ch)}), not "
                                 "a space: YAML indents with plain spaces; delete it and type "
                                 "spaces")
    return None


def _wide_colon(lines: list[str], first: int, last: int) -> SyntaxProblem | None:
    for number in range(first, last + 1):
        match = _WIDE_COLON_KEY.match(lines[number])
        if match:
            key = match.group().strip().removeprefix("-").strip().removesuffix(FULL_WIDTH_COLON)
            return SyntaxProblem(number + 1, match.end(), f"'{key}' is followed by a "
                                 f"full-width colon '{FULL_WIDTH_COLON}': YAML needs the plain "
                                 f"colon ':' and a space (switch the input method to "
                                 f"half-width): write '{key}: '")
    return None

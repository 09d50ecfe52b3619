"""AGI commands and results, as text: building command lines and parsing `200 result=...`.

AsyncAGI carries ordinary AGI: the command goes in the `Command` header of an `AGI`
action, and the reply comes back URL-encoded in the `Result` header of `AsyncAGIExec`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_RESULT = re.compile(r"^(\d{3})\s+result=(\S*)(?:\s+\(([^)]*)\))?\s*(.*)$", re.S)
_UNSAFE_ARG = re.compile(r'["\\\r\n\0]')


@dataclass(frozen=True, slots=True)
class AgiResult:
    """One AGI reply: `code` 200 is success; `result` is the command's value
    (a digit's ASCII code, typed digits, -1 on hangup); `data` is the text in parentheses
    (`timeout`, a variable's value); `extra` holds trailing `key=value` pairs (`endpos`)."""

    code: int
    result: str
    data: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.code == 200 and self.result != "-1"

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"

    @property
    def key(self) -> str:
        """The key a caller pressed to interrupt a prompt, or "" when none was."""
        if self.code != 200 or not self.result.isdigit() or self.result == "0":
            return ""
        return chr(int(self.result))


class AgiSyntaxError(ValueError):
    """Asterisk sent a reply that is not an AGI result line."""


def parse_result(raw: str) -> AgiResult:
    """Parse the `Result` header of AsyncAGIExec (URL-encoded) or a plain reply line."""
    text = unquote(raw).strip()
    match = _RESULT.match(text)
    if match is None:
        # 510/511/520 replies have no result=; they still carry a code.
        head, _, rest = text.partition(" ")
        if head.isdigit():
            return AgiResult(code=int(head), result="-1", data=rest)
        raise AgiSyntaxError(f"not an AGI result: {text!r}")
    code, result, data, tail = match.groups()
    extra = tuple(
        (k, v) for k, _, v in (item.partition("=") for item in tail.split()) if k and v
    )
    return AgiResult(code=int(code), result=result, data=data or "", extra=extra)


def quote(arg: str) -> str:
    """One AGI argument. AGI splits on blanks and honours double quotes; quotes,
    backslashes and line breaks inside a value are dropped so it stays one argument."""
    clean = _UNSAFE_ARG.sub("", arg)
    if clean == "" or any(c.isspace() for c in clean):
        return f'"{clean}"'
    return clean


def command(verb: str, *args: str | int) -> str:
    """An AGI command line: `verb` as written (`GET DATA`), every argument quoted."""
    return " ".join([verb, *(quote(str(arg)) for arg in args)])

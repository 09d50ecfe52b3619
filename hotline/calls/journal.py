"""A call's AGI steps told in the caller's words: what they heard and what they pressed."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

from pbx.ports import JOURNAL_MARK


def _prompt(path: str) -> str:
    """`/srv/.../sounds/zh/main_menu` as `zh/main_menu`; core sounds as they are."""
    parts = path.split("/")
    return "/".join(parts[-2:]) if path.startswith("/") else path


def caller_view(steps: Iterable[Mapping[str, Any]]) -> list[str]:
    words: list[str] = []
    for step in steps:
        try:
            parts = shlex.split(step["command"])
        except ValueError:
            parts = step["command"].split()
        verb = " ".join(parts[:2]) if len(parts) > 1 and parts[0] in ("GET", "STREAM", "SAY") \
            else parts[0] if parts else ""
        args = parts[2:] if " " in verb else parts[1:]
        result = str(step.get("result", ""))
        if verb == JOURNAL_MARK:  # where the caller was, for an engine taking over: not heard
            continue
        if step.get("error"):
            words.append(f"gone during {verb.lower() or 'a step'} ({step['error']})")
            continue
        if verb == "GET DATA":
            words.append(f"heard {_prompt(args[0])}")
            if result and result != "-1":
                words.append(f"pressed {result}")
            elif step.get("data") == "timeout":
                words.append("pressed nothing")
        elif verb == "STREAM FILE":
            words.append(f"heard {_prompt(args[0])}")
            if result.isdigit() and result != "0":
                words.append(f"pressed {chr(int(result))} (interrupting)")
        elif verb == "SAY DIGITS":
            words.append(f"heard digits {args[0]}")
        elif verb == "SAY NUMBER":
            words.append(f"heard number {args[0]}")
        elif verb == "HANGUP":
            words.append("was hung up on")
        elif verb == "RECORDING":
            what = args[0].lower() if args else ""
            words.append({"muted": "(recording muted: typing a secret)",
                          "resumed": "(recording resumed)"}.get(what, "(recording started)"))
        else:
            words.append(step["command"])
    return words

"""Recordings for supervisors: the search, and one recording with its timeline. Pure:
what matches a search, where the timeline's marks go, and the HTML.

The timeline is the recording's length with the mute spans (a caller typing a PIN, as
the index recorded them), and the call's parts as the index timed them: in the menu,
waiting in the queue, with the agent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from web.pages import Words
from web.pages import esc as _e

FILTERS = ("day", "queue", "agent", "number", "tier", "flagged", "grade")
WIDTH = 800  # the timeline's width in its own units
LABELS = {"menu": "menu", "waiting": "waiting_part", "agent": "agent_part", "muted": "muted"}


def matches(entry: Mapping[str, str], grade: str, asked: Mapping[str, str]) -> bool:
    """Whether an indexed recording answers the search (the day is chosen before)."""
    if asked.get("queue") and entry.get("queue") != asked["queue"]:
        return False
    if asked.get("agent") and entry.get("agent") != asked["agent"]:
        return False
    if asked.get("number") and asked["number"] not in entry.get("caller_number", ""):
        return False
    if asked.get("tier") and entry.get("vip_tier") != asked["tier"]:
        return False
    if asked.get("flagged") and not entry.get("flagged"):
        return False
    return not (asked.get("grade") and grade != asked["grade"])


@dataclass(frozen=True, slots=True)
class Mark:
    kind: str  # "menu", "waiting", "agent" or "muted"
    start: float  # seconds from the recording's start
    end: float


def timeline(entry: Mapping[str, str]) -> tuple[float, list[Mark]]:
    """The recording's length (s) and its marks, clipped to it."""
    duration = float(entry.get("duration") or 0)
    began = float(entry.get("started") or 0) / 1000

    def at(field: str) -> float | None:
        value = entry.get(field, "")
        return min(duration, max(0.0, float(value) - began)) if value else None

    joined, answered = at("queue_joined"), at("agent_answered")
    marks = [Mark("menu", 0.0, joined if joined is not None else duration)]
    if joined is not None:
        marks.append(Mark("waiting", joined, answered if answered is not None else duration))
    if answered is not None:
        marks.append(Mark("agent", answered, duration))
    for start, end in json.loads(entry.get("mutes") or "[]"):
        marks.append(Mark("muted", min(duration, float(start)), min(duration, float(end))))
    return duration, marks


def timeline_svg(words: Words, duration: float, marks: Sequence[Mark]) -> str:
    scale = WIDTH / duration if duration > 0 else 0.0
    rows = {"menu": 4, "waiting": 4, "agent": 4, "muted": 22}
    shapes = "".join(
        f'<rect class="{m.kind}" x="{m.start * scale:.1f}" y="{rows[m.kind]}" '
        f'width="{max(1.0, (m.end - m.start) * scale):.1f}" height="14" '
        f'data-start="{m.start:.2f}" data-end="{m.end:.2f}"><title>{_e(words[LABELS[m.kind]])} '
        f"{m.start:.1f}–{m.end:.1f}s</title></rect>" for m in marks)
    legend = " ".join(f'<span class="key {kind}">{_e(words[label])}</span>'
                      for kind, label in LABELS.items())
    return (f'<figure class="timeline"><svg viewBox="0 0 {WIDTH} 40" width="100%" '
            f'height="40" preserveAspectRatio="none" role="img" data-duration="{duration:.2f}">'
            f'<rect class="length" x="0" y="0" width="{WIDTH}" height="40"/>{shapes}</svg>'
            f"<figcaption>{legend} · {duration:.1f}s</figcaption></figure>")


def search_body(words: Words, asked: Mapping[str, str], found: Sequence[Mapping[str, str]],
                grades: Mapping[str, str]) -> str:
    fields = "".join(
        f'<label>{_e(words["find_" + name])} <input name="{name}" '
        f'value="{_e(asked.get(name, ""))}"{" type=date" if name == "day" else ""}></label>'
        for name in FILTERS if name != "flagged")
    flagged = " checked" if asked.get("flagged") else ""
    rows = "".join(
        f'<tr><td><a href="/recordings/{_e(e.get("recording", e.get("call_id", "")))}">'
        f'{_e(e.get("call_id", ""))}</a></td><td>{_e(e.get("caller_number", ""))}</td>'
        f'<td>{_e(e.get("vip_tier", ""))}</td><td>{_e(e.get("queue", ""))}</td>'
        f'<td>{_e(e.get("agent", ""))}</td><td>{float(e.get("duration") or 0):.0f}s</td>'
        f'<td>{_e(grades.get(e.get("call_id", ""), "") or "–")}</td>'
        f'<td>{"⚑ " + _e(e["flagged"]) if e.get("flagged") else ""}</td></tr>'
        for e in found)
    head = "".join(f"<th>{_e(words[k])}</th>" for k in (
        "call", "number", "tier", "queue", "agent", "length", "grade", "flag"))
    return (f'<h1>{_e(words["recordings"])}</h1><form method="get" action="/recordings" '
            f'class="search">{fields}<label><input type="checkbox" name="flagged" value="1"'
            f'{flagged}> {_e(words["find_flagged"])}</label><button type="submit">'
            f'{_e(words["search"])}</button></form><p>{len(found)} {_e(words["found"])}</p>'
            f'<table class="recordings"><thead><tr>{head}</tr></thead><tbody>{rows}'
            f"</tbody></table>")


def recording_body(words: Words, recording_id: str, entry: Mapping[str, str], grade: str,
                   csrf: str) -> str:
    duration, marks = timeline(entry)
    playable = entry.get("path", "").endswith(".wav")
    audio = (f'<audio controls preload="none" src="/recordings/{_e(recording_id)}/audio">'
             f"</audio>" if playable else f'<p>{_e(words["download_only"])}</p>')
    hidden = f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
    if entry.get("flagged"):
        flag = (f'<form method="post" action="/recordings/{_e(recording_id)}/unflag" '
                f'class="inline">{hidden}<span class="flagged">⚑ {_e(entry["flagged"])}</span> '
                f'<button type="submit">{_e(words["unflag"])}</button></form>')
    else:
        flag = (f'<form method="post" action="/recordings/{_e(recording_id)}/flag" '
                f'class="inline">{hidden}<input name="reason" required '
                f'placeholder="{_e(words["flag_reason"])}"><button type="submit">'
                f'{_e(words["flag"])}</button></form>')
    facts = "".join(f"<dt>{_e(words[label])}</dt><dd>{_e(entry.get(field, '') or '–')}</dd>"
                    for label, field in (("number", "caller_number"), ("tier", "vip_tier"),
                                         ("menu_path", "menu_path"), ("queue", "queue"),
                                         ("agent", "agent"), ("outcome", "outcome"),
                                         ("disposition", "disposition")))
    return (f'<h1>{_e(words["recording"])} {_e(recording_id)}</h1>{audio}'
            f"{timeline_svg(words, duration, marks)}"
            f'<p><a href="/recordings/{_e(recording_id)}/audio?download=1">'
            f'{_e(words["download"])}</a></p>{flag}<dl class="facts">{facts}'
            f'<dt>{_e(words["grade"])}</dt><dd>{_e(grade or "–")}</dd></dl>')

"""A listen-in's page (the wallboard's buttons are `web.pages`'). Pure: plain data in,
HTML out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from web.pages import Words
from web.pages import esc as _e

# The session's states, in the words of the page (`web.words`).
STATE_WORDS = {"asked": "listen_asked", "ringing": "listen_ringing", "on": "listen_on",
               "refused": "listen_refused", "not answered": "listen_not_answered",
               "ended": "listen_ended"}


def session_body(words: Words, session: Mapping[str, str], csrf: str) -> str:
    state = session.get("state", "asked")
    mode = session.get("mode", "")
    rows = [(words["call"], session.get("call_id", "")),
            (words["listen_how"], words.get(mode, mode)),
            (words["agent"], session.get("agent", "") or "-"),
            (words["phone"], session.get("phone", "")),
            (words["state"], words[STATE_WORDS.get(state, "listen_asked")])]
    if session.get("said"):  # the engine's words, unless the page has its own
        rows.append((words["reason"], words.get(f'listen_why_{session.get("reason")}',
                                                session["said"])))
    if state == "ended":
        rows.append((words["listened_for"], f'{session.get("seconds", "0")} s'))
        if session.get("why"):
            rows.append((words["reason"], session["why"]))
    table = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    end = ""
    if state in ("asked", "ringing", "on"):
        end = (f'<form method="post" action="/listen/{_e(session.get("id", ""))}/end">'
               f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
               f'<button type="submit" class="end">{_e(words["listen_end"])}</button></form>')
    # While the phone rings, the page looks again by itself (a moment's state only).
    again = '<meta http-equiv="refresh" content="1">' if state in ("asked", "ringing") \
        else ""
    return (f'{again}<h1>{_e(words["listen_in"])}</h1>'
            f'<table class="listen-session" data-state="{_e(state)}">{table}</table>{end}'
            f'<p><a href="/wallboard">{_e(words["wallboard"])}</a> '
            f'<a href="/listen">{_e(words["listen_log"])}</a></p>')


def log_body(words: Words, entries: Sequence[Mapping[str, str]], zone: dt.tzinfo) -> str:
    """The listen-in log, newest first: who, when, which call and agent, how, how long."""
    def when(at: str) -> str:
        return dt.datetime.fromtimestamp(float(at or 0), zone).strftime("%Y-%m-%d %H:%M:%S")

    rows = "".join(
        f'<tr><td>{when(e.get("at", ""))}</td><td>{_e(e.get("who", ""))}</td>'
        f'<td>{_e(e.get("call", ""))}</td><td>{_e(e.get("agent", "") or "-")}</td>'
        f'<td>{_e(words.get(e.get("mode", ""), e.get("mode", "")))}</td>'
        f'<td>{_e(e.get("seconds", "0"))} s</td><td class="how">{_e(e.get("how", ""))}</td>'
        f"</tr>" for e in entries)
    head = "".join(f"<th>{_e(words[k])}</th>" for k in (
        "listen_at", "listen_who", "call", "agent", "listen_how", "listened_for",
        "listen_outcome"))
    return (f'<h1>{_e(words["listen_log"])}</h1><table class="listen-log"><thead><tr>'
            f"{head}</tr></thead><tbody>{rows}</tbody></table>")

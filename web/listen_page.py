"""A listen-in's page (the wallboard's buttons are `web.pages`'). Pure: plain data in,
HTML out."""

from __future__ import annotations

from collections.abc import Mapping

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
            f'<p><a href="/wallboard">{_e(words["wallboard"])}</a></p>')

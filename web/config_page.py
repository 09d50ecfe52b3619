"""The routing YAML in the browser: the text with its line numbers, every problem at its
line (the CLI's own words), the plain-words diff against the live version, activation,
rollback and history. Pure rendering; the checks are `config.loader`'s and the
versions `config.versions`', the very functions the CLI calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from config.loader import Problem
from web.pages import Words
from web.pages import esc as _e

NAME = "routing.yaml"  # what the problems call a text pasted in the page


def config_body(words: Words, csrf: str, text: str, live_number: int | None,
                problems: Sequence[Problem] | None, changes: Sequence[str] | None,
                history: Sequence[Mapping[str, object]], may_activate: bool,
                said: str = "") -> str:
    """`problems`: None before a check; `changes`: the diff against the live version
    (None: not checked, or invalid)."""
    marked = {p.line: p.severity for p in problems or []}
    gutter = "".join(f'<span id="L{n}" class="{marked.get(n, "")}">{n}</span>'
                     for n in range(1, text.count("\n") + 2))
    found = ""
    if problems is not None:
        errors = sum(p.severity == "error" for p in problems)
        rows = "".join(f'<li class="{_e(p.severity)}"><a href="#L{p.line}">{_e(p)}</a></li>'
                       for p in problems)
        verdict = (f'<p class="bad">{errors} {_e(words["errors"])}</p>' if errors
                   else f'<p class="good">{_e(words["valid"])}</p>')
        found = f'<section id="problems">{verdict}<ol>{rows}</ol></section>'
    diff = ""
    if changes is not None:
        listed = "".join(f"<li>{_e(c)}</li>" for c in changes) or \
            f'<li>{_e(words["no_change"])}</li>'
        diff = (f'<section id="diff"><h2>{_e(words["against_live"])} '
                f'({_e(live_number)})</h2><ul>{listed}</ul></section>')
    hidden = f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
    activate = ""
    if may_activate:
        ready = changes is not None and problems is not None and \
            not any(p.severity == "error" for p in problems)
        activate = (f'<button type="submit" formaction="/config/activate" id="activate"'
                    f'{"" if ready else " disabled"}>{_e(words["activate"])}</button>')
        rollback = (f'<form method="post" action="/config/rollback" class="inline">{hidden}'
                    f'<button type="submit" id="rollback">{_e(words["rollback"])}</button>'
                    "</form>")
    else:
        rollback = ""
    rows = "".join(
        f"<tr><td>{_e(_when(entry.get('at')))}</td><td>{_e(entry.get('what', ''))}</td>"
        f"<td>{_e(entry.get('version', ''))}</td><td>{_e(entry.get('author', ''))}</td>"
        f"<td>{_e(str(entry.get('sha256', ''))[:12])}</td></tr>"
        for entry in reversed(list(history)))
    note = f'<p class="said" role="status">{_e(said)}</p>' if said else ""
    return (f'<h1>{_e(words["routing"])} <small>{_e(words["live_version"])} '
            f'{_e(live_number)}</small></h1>{note}{found}{diff}'
            f'<form method="post" action="/config/check" enctype="multipart/form-data" '
            f'class="yaml">{hidden}<div class="editor"><pre class="gutter" aria-hidden="true">'
            f'{gutter}</pre><textarea name="text" spellcheck="false" rows="30" '
            f'aria-label="{_e(words["routing"])}">{_e(text)}</textarea></div>'
            f'<label>{_e(words["upload"])} <input type="file" name="file" accept=".yaml,.yml">'
            f'</label><button type="submit" id="check">{_e(words["check"])}</button>'
            f"{activate}</form>{rollback}"
            f'<h2>{_e(words["activations"])}</h2><table class="history"><thead><tr>'
            f'<th>{_e(words["when"])}</th><th></th><th>{_e(words["version"])}</th>'
            f'<th>{_e(words["author"])}</th><th>sha256</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _when(at: object) -> str:
    try:
        return dt.datetime.fromtimestamp(float(str(at)), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return ""

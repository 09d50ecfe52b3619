"""The monthly quality review in the console: the reviews still to do, a call scored
while it plays, and the month's report beside the survey grades. Pure rendering; the
pick and the scores are `quality.review`'s."""

from __future__ import annotations

from collections.abc import Mapping

from config.model import Review
from quality.review import AgentMonth, parse_marks, weighted
from web.pages import Words
from web.pages import esc as _e
from web.recordings_page import timeline, timeline_svg


def _share(value: float | None) -> str:
    """A score as a share of the best, to a tenth: 62.5% is not rounded either way."""
    return "–" if value is None else f"{value:.1%}"


def queue_body(words: Words, month: str, picked: Mapping[str, list[str]],
               reviews: Mapping[str, Mapping[str, str]], form: Review) -> str:
    if not picked:
        return (f'<h1>{_e(words["reviews"])} {_e(month)}</h1>'
                f'<p class="none">{_e(words["not_picked"])}</p>{_months(words, month)}')
    rows = []
    for agent, calls in sorted(picked.items()):
        done = [c for c in calls if c in reviews]
        links = " ".join(_call_link(c, reviews.get(c), form) for c in calls)
        rows.append(f'<tr data-agent="{_e(agent)}"><td>{_e(agent)}</td>'
                    f'<td class="progress">{len(done)}/{len(calls)}</td><td>{links}</td></tr>')
    return (f'<h1>{_e(words["reviews"])} {_e(month)}</h1>{_months(words, month)}'
            f'<p><a href="/reviews/report?month={_e(month)}">{_e(words["review_report"])}</a>'
            f'</p><table class="reviews"><thead><tr><th>{_e(words["agent"])}</th>'
            f'<th>{_e(words["reviewed"])}</th><th>{_e(words["calls"])}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _call_link(call_id: str, review: Mapping[str, str] | None, form: Review) -> str:
    if review is None:
        return f'<a href="/reviews/{_e(call_id)}" class="todo">{_e(call_id)}</a>'
    scored = _share(weighted(form, parse_marks(review.get("marks", ""))))
    return f'<a href="/reviews/{_e(call_id)}" class="done">{_e(call_id)} {scored}</a>'


def _months(words: Words, month: str) -> str:
    return (f'<form method="get" action="/reviews" class="inline"><input name="month" '
            f'type="month" value="{_e(month)}"><button type="submit">{_e(words["search"])}'
            "</button></form>")


def review_body(words: Words, call_id: str, entry: Mapping[str, str], form: Review,
                review: Mapping[str, str], csrf: str) -> str:
    duration, marks = timeline(entry)
    given = parse_marks(review.get("marks", ""))
    criteria = "".join(
        f'<fieldset class="criterion" data-criterion="{_e(name)}"><legend>{_e(c.name)} '
        f'<small>(weight {c.weight:g})</small></legend>'
        + "".join(f'<label><input type="radio" name="{_e(name)}" value="{mark}" required'
                  f'{" checked" if given.get(name) == mark else ""}> {mark}</label>'
                  for mark in range(1, form.scale + 1))
        + "</fieldset>" for name, c in form.criteria.items())
    done = ""
    if review:
        done = (f'<p class="scored">{_e(words["scored"])} '
                f'<b>{_share(weighted(form, given))}</b> · {_e(review.get("reviewer", ""))}'
                "</p>")
    return (f'<h1>{_e(words["review"])} {_e(call_id)} · {_e(words["agent"])} '
            f'{_e(entry.get("agent", ""))}</h1>'
            f'<audio controls preload="none" src="/recordings/{_e(call_id)}/audio">'
            f"</audio>{timeline_svg(words, duration, marks)}{done}"
            f'<form method="post" action="/reviews/{_e(call_id)}" class="review">'
            f'<input type="hidden" name="csrf" value="{_e(csrf)}">{criteria}'
            f'<label>{_e(words["comments"])} <textarea name="comment" rows="3" maxlength="2000">'
            f'{_e(review.get("comment", ""))}</textarea></label>'
            f'<button type="submit">{_e(words["save"])}</button></form>')


def report_body(words: Words, month: str, form: Review,
                agents: Mapping[str, AgentMonth]) -> str:
    head = "".join(f"<th>{_e(c.name)}</th>" for c in form.criteria.values())
    rows = []
    for agent, m in agents.items():
        cells = "".join(
            f'<td data-criterion="{_e(name)}">'
            f'{sum(v) / len(v):.1f}</td>' if (v := m.by_criterion.get(name)) else "<td>–</td>"
            for name in form.criteria)
        survey = "–" if m.survey_average is None else f"{m.survey_average:.1f}"
        rows.append(f'<tr data-agent="{_e(agent)}"><td>{_e(agent)}</td>'
                    f'<td class="reviewed">{len(m.scores)}/{m.picked}</td>'
                    f'<td class="score">{_share(m.average)}</td>{cells}'
                    f'<td class="survey">{survey}</td></tr>')
    return (f'<h1>{_e(words["review_report"])} {_e(month)}</h1>'
            f'<table class="review-report"><thead><tr><th>{_e(words["agent"])}</th>'
            f'<th>{_e(words["reviewed"])}</th><th>{_e(words["score"])}</th>{head}'
            f'<th>{_e(words["survey_of_same"])}</th></tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')

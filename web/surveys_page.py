"""Survey results for supervisors: grades by queue, agent and day with the attempt and
contact rates, from `quality.reports` (the report `hotline surveys report` prints), and
the low grades with the customer's spoken comment to play. Pure."""

from __future__ import annotations

from quality.reports import GRADES, Report, Tally
from web.pages import Words
from web.pages import esc as _e

LOW = 2  # grades at or below this are listed with their comment


def _table(words: Words, title: str, table: dict[str, Tally]) -> str:
    head = "".join(f"<th>{g}</th>" for g in sorted(GRADES, reverse=True))
    rows = "".join(
        f'<tr data-name="{_e(name)}"><td>{_e(name)}</td><td class="answers">{t.answers}</td>'
        f'<td class="average">{t.average:.2f}</td>'
        f'<td class="satisfied">{t.satisfied_share:.0%}</td>'
        + "".join(f"<td>{t.grades[g]}</td>" for g in sorted(GRADES, reverse=True)) + "</tr>"
        for name, t in sorted(table.items()))
    return (f'<section class="by-{_e(title)}"><h2>{_e(words["by_" + title])}</h2><table>'
            f'<thead><tr><th></th><th>{_e(words["answers"])}</th><th>{_e(words["average"])}'
            f'</th><th>{_e(words["satisfied"])}</th>{head}</tr></thead><tbody>{rows}</tbody>'
            "</table></section>")


def surveys_body(words: Words, report: Report) -> str:
    rates = (f'<p class="rates">{_e(words["sampled"])} <b>{report.sampled}</b> · '
             f'{_e(words["attempted"])} <b class="attempt">{report.attempt_rate:.0%}</b> · '
             f'{_e(words["contacted"])} <b class="contact">{report.contact_rate:.0%}</b></p>')
    low = [c for c in report.comments if c[2].isdigit() and int(c[2]) <= LOW]
    comments = "".join(
        f'<li data-call="{_e(call)}">{_e(words["agent"])} {_e(agent)} · {_e(words["grade"])} '
        f'{_e(grade)} · <a href="/recordings/{_e(call)}">{_e(call)}</a>'
        f'<audio controls preload="none" src="/surveys/{_e(call)}/comment"></audio></li>'
        for call, agent, grade, _ in low)
    return (f'<h1>{_e(words["surveys"])}</h1>{rates}'
            + "".join(_table(words, title, table) for title, table in (
                ("queue", report.by_queue), ("agent", report.by_agent),
                ("day", report.by_day)))
            + f'<section id="low"><h2>{_e(words["low_grades"])}</h2><ul>{comments}</ul>'
              "</section>")

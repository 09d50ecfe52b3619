"""The monthly quality review of recorded calls. Pure.

The pick: of each agent's answered calls of a month, the `calls_per_agent` with the
lowest HMAC of (month, call id) under a secret key, the idea of the survey sample. The
same calls and key always give the same pick (anyone holding the key can check it), and
nobody without the key can tell or steer which calls will be reviewed.

A review scores each criterion of the YAML's form 1..scale; the call's score is the
weighted mean, as a share of the best (100% when every criterion has the top mark).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from config.model import Review


def month_of(at: float, timezone: dt.tzinfo) -> str:
    """YYYY-MM of a moment, in the hotline's time zone."""
    return dt.datetime.fromtimestamp(at, timezone).strftime("%Y-%m")


def month_bounds(month: str, timezone: dt.tzinfo) -> tuple[float, float]:
    """The month's first moment and the next month's, as unix times."""
    first = dt.datetime.strptime(month + "-01", "%Y-%m-%d").replace(tzinfo=timezone)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    return first.timestamp(), after.timestamp()


def previous_month(month: str) -> str:
    first = dt.date.fromisoformat(month + "-01")
    return (first - dt.timedelta(days=1)).strftime("%Y-%m")


def reviewable(entry: Mapping[str, str]) -> bool:
    """A call's own recording (not a callback leg's) that an agent answered."""
    return bool(entry.get("agent")) and bool(entry.get("agent_answered")) and \
        entry.get("recording", entry.get("call_id")) == entry.get("call_id")


def draw(month: str, call_id: str, key: bytes) -> bytes:
    return hmac.new(key, f"review:{month}:{call_id}".encode(), hashlib.sha256).digest()


def pick(entries: Iterable[Mapping[str, str]], month: str, key: bytes,
         per_agent: int) -> dict[str, list[str]]:
    """Each agent's calls to review for `month`: call ids, in the order of the draw."""
    calls: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        if reviewable(entry):
            calls[entry["agent"]].add(entry["call_id"])
    return {agent: sorted(ids, key=lambda c: draw(month, c, key))[:per_agent]
            for agent, ids in sorted(calls.items())}


class ScoreRefused(ValueError):
    pass


def score(form: Review, marks: Mapping[str, str]) -> dict[str, int]:
    """The marks a reviewer gave, checked against the form: every criterion, 1..scale."""
    given = {}
    for name in form.criteria:
        raw = marks.get(name, "")
        if not raw.isdigit() or not 1 <= int(raw) <= form.scale:
            raise ScoreRefused(f"give '{form.criteria[name].name}' a mark from 1 to "
                               f"{form.scale}")
        given[name] = int(raw)
    return given


def weighted(form: Review, marks: Mapping[str, int]) -> float:
    """The call's score: 1.0 when every criterion has the top mark, 0.0 at the bottom."""
    total = sum(c.weight for c in form.criteria.values())
    return sum(form.criteria[n].weight * (m - 1) / (form.scale - 1)
               for n, m in marks.items() if n in form.criteria) / total


@dataclass
class AgentMonth:
    """One agent's month of reviews, beside the survey grades of the same calls."""

    picked: int = 0
    scores: list[float] = field(default_factory=list)
    by_criterion: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    survey_grades: list[int] = field(default_factory=list)  # of the reviewed calls

    @property
    def average(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None

    @property
    def survey_average(self) -> float | None:
        return sum(self.survey_grades) / len(self.survey_grades) if self.survey_grades \
            else None


def report(form: Review, picked: Mapping[str, list[str]],
           reviews: Mapping[str, Mapping[str, str]],
           grades: Mapping[str, str]) -> dict[str, AgentMonth]:
    """`picked`: agent -> call ids; `reviews`: call id -> the stored review (`marks`
    as `name=mark,...`); `grades`: call id -> the survey grade."""
    out: dict[str, AgentMonth] = {}
    for agent, calls in sorted(picked.items()):
        month = out.setdefault(agent, AgentMonth(picked=len(calls)))
        for call_id in calls:
            review = reviews.get(call_id)
            if not review:
                continue
            marks = parse_marks(review.get("marks", ""))
            month.scores.append(weighted(form, marks))
            for name, mark in marks.items():
                month.by_criterion[name].append(mark)
            if grades.get(call_id, "").isdigit():
                month.survey_grades.append(int(grades[call_id]))
    return out


def format_marks(marks: Mapping[str, int]) -> str:
    return ",".join(f"{name}={mark}" for name, mark in marks.items())


def parse_marks(text: str) -> dict[str, int]:
    found = {}
    for part in text.split(","):
        name, _, mark = part.partition("=")
        if name and mark.isdigit():
            found[name] = int(mark)
    return found

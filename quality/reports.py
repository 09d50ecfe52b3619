"""Satisfaction by queue, agent and day, with attempt and contact rates. Pure: it
counts the survey jobs and results it is given."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

GRADES = {5: "very satisfied", 4: "satisfied", 3: "neutral", 2: "dissatisfied",
          1: "very dissatisfied"}


@dataclass
class Tally:
    grades: dict[int, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))

    @property
    def answers(self) -> int:
        return sum(self.grades.values())

    @property
    def average(self) -> float:
        return sum(g * n for g, n in self.grades.items()) / self.answers if self.answers else 0

    @property
    def satisfied_share(self) -> float:
        """Grades 4 and 5, the share operators report."""
        return (self.grades[4] + self.grades[5]) / self.answers if self.answers else 0.0


@dataclass
class Report:
    by_queue: dict[str, Tally]
    by_agent: dict[str, Tally]
    by_day: dict[str, Tally]
    sampled: int  # jobs made
    attempted: int  # jobs with at least one call placed
    contacted: int  # jobs where the customer answered
    # (served call, agent, grade, file under the recordings directory)
    comments: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def attempt_rate(self) -> float:
        return self.attempted / self.sampled if self.sampled else 0.0

    @property
    def contact_rate(self) -> float:
        return self.contacted / self.attempted if self.attempted else 0.0


def build(jobs: Iterable[Mapping[str, str]], results: Iterable[Mapping[str, str]],
          timezone: dt.tzinfo) -> Report:
    by: dict[str, defaultdict[str, Tally]] = {k: defaultdict(Tally)
                                              for k in ("queue", "agent", "day")}
    contacted = 0
    comments = []
    for result in results:
        contacted += 1
        if result.get("comment"):
            comments.append((result.get("call_id", ""), result.get("agent", ""),
                             result.get("grade", ""), result["comment"]))
        grade = int(result["grade"]) if result.get("grade", "").isdigit() else None
        if grade not in GRADES:
            continue
        day = dt.datetime.fromtimestamp(float(result["at"]), timezone).date().isoformat()
        for key, value in (("queue", result["queue"]), ("agent", result["agent"]),
                           ("day", day)):
            by[key][value].grades[grade] += 1
    jobs = list(jobs)
    attempted = sum(1 for job in jobs if int(job.get("attempts", "0")) > 0)
    return Report(dict(by["queue"]), dict(by["agent"]), dict(by["day"]), len(jobs),
                  attempted, contacted, sorted(comments))


def lines(report: Report) -> list[str]:
    out = [f"sampled {report.sampled}, attempted {report.attempted} "
           f"({report.attempt_rate:.0%}), contacted {report.contacted} "
           f"({report.contact_rate:.0%} of attempted)"]
    for title, table in (("queue", report.by_queue), ("agent", report.by_agent),
                         ("day", report.by_day)):
        out.append(f"by {title}:")
        for name, tally in sorted(table.items()):
            spread = " ".join(f"{g}:{tally.grades[g]}" for g in sorted(GRADES, reverse=True))
            out.append(f"  {name:<14} answers {tally.answers:>4}  average {tally.average:.2f}"
                       f"  satisfied {tally.satisfied_share:.0%}  [{spread}]")
    out.append(f"spoken comments: {len(report.comments)}")
    out.extend(f"  {call}  agent {agent}  grade {grade}  {path}"
               for call, agent, grade, path in report.comments)
    return out

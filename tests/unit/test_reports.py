from __future__ import annotations

import datetime as dt

from quality.reports import build, lines

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
DAY1 = dt.datetime(2026, 11, 23, 10, tzinfo=SHANGHAI).timestamp()
DAY2 = dt.datetime(2026, 11, 24, 10, tzinfo=SHANGHAI).timestamp()


def test_satisfaction_by_queue_agent_and_day_with_rates() -> None:
    jobs = [{"attempts": "1"}, {"attempts": "2"}, {"attempts": "3"}, {"attempts": "0"}]
    results = [
        {"grade": "5", "queue": "complaints", "agent": "1003", "at": str(DAY1)},
        {"grade": "2", "queue": "complaints", "agent": "1005", "at": str(DAY2),
         "call_id": "c2", "comment": "comments/2026-11-24/survey-c2-1.wav"},
        {"grade": "", "queue": "fault_report", "agent": "1002", "at": str(DAY2)},
    ]
    report = build(jobs, results, SHANGHAI)
    assert (report.sampled, report.attempted, report.contacted) == (4, 3, 3)
    assert report.attempt_rate == 0.75 and report.contact_rate == 1.0
    complaints = report.by_queue["complaints"]
    assert complaints.answers == 2 and complaints.average == 3.5
    assert complaints.satisfied_share == 0.5
    assert set(report.by_day) == {"2026-11-23", "2026-11-24"}
    assert "fault_report" not in report.by_queue  # answered, but no grade given
    text = "\n".join(lines(report))
    assert "sampled 4, attempted 3 (75%), contacted 3 (100% of attempted)" in text
    assert "complaints     answers    2  average 3.50  satisfied 50%" in text
    assert "spoken comments: 1\n  c2  agent 1005  grade 2  comments/2026-11-24/survey-c2-1.wav" \
        in text

"""The 10% callback sample: fair, reproducible, and never calling the excluded."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from pathlib import Path

from config.loader import load
from quality.sampling import ServedCall, decide, draw, first_attempt_at, retry_at

CONFIG = load(Path(__file__).resolve().parents[2] / "config" / "hotline.yaml")
RULES = CONFIG.sampling  # 10%, fault/complaints/installation, 1 h delay, 09-12 & 14-20
SALT = b"audit-salt"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def call(i: int, **kw: object) -> ServedCall:
    fields: dict[str, object] = {"call_id": f"1795000000.{i}", "caller_number": f"138{i:08d}",
                                 "queue": "complaints", "agent": "1003",
                                 "ended_at": 1_795_000_000.0}
    fields.update(kw)
    return ServedCall(**fields)  # type: ignore[arg-type]


def test_the_share_sampled_is_ten_percent_within_the_binomial_interval() -> None:
    n = 10_000
    sampled = sum(decide(call(i), RULES, SALT, opted_out=False, last_surveyed_at=None).sampled
                  for i in range(n))
    # 99.9% two-sided: z = 3.2905
    half_width = 3.2905 * math.sqrt(n * 0.1 * 0.9)
    assert abs(sampled - n * 0.1) <= half_width, sampled


def test_the_same_calls_give_the_same_sample_and_the_salt_matters() -> None:
    first = [decide(call(i), RULES, SALT, opted_out=False, last_surveyed_at=None).sampled
             for i in range(2000)]
    again = [decide(call(i), RULES, SALT, opted_out=False, last_surveyed_at=None).sampled
             for i in range(2000)]
    other = [decide(call(i), RULES, b"other", opted_out=False, last_surveyed_at=None).sampled
             for i in range(2000)]
    assert first == again and first != other
    assert 0 <= draw("x", SALT) < 1


def test_excluded_callers_are_never_sampled() -> None:
    always = RULES.model_copy(update={"rate": 1.0})
    assert decide(call(1), always, SALT, opted_out=False, last_surveyed_at=None).sampled
    assert not decide(call(1, caller_number="anonymous"), always, SALT, opted_out=False,
                      last_surveyed_at=None).sampled
    assert not decide(call(1), always, SALT, opted_out=True, last_surveyed_at=None).sampled
    recent = decide(call(1), always, SALT, opted_out=False,
                    last_surveyed_at=1_795_000_000.0 - 10 * 86400)
    assert not recent.sampled and "30 days" in recent.reason
    assert not decide(call(1, queue="general"), always, SALT, opted_out=False,
                      last_surveyed_at=None).sampled


def at(hour: int, minute: int = 0, day: int = 23) -> float:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def test_callbacks_only_inside_calling_hours() -> None:
    assert first_attempt_at(call(1, ended_at=at(9, 30)), RULES, "Asia/Shanghai") == at(10, 30)
    # Ends 11:30: due 12:30, in the lunch gap, so 14:00.
    assert first_attempt_at(call(1, ended_at=at(11, 30)), RULES, "Asia/Shanghai") == at(14)
    # Ends 19:30: due 20:30, after hours, so 09:00 the next day.
    assert first_attempt_at(call(1, ended_at=at(19, 30)), RULES, "Asia/Shanghai") == \
        at(9, day=24)
    assert retry_at(at(10), RULES, "Asia/Shanghai") == at(10, 30)

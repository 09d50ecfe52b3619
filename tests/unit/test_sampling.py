"""The 10% callback sample: fair, reproducible, and never calling the excluded."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import zoneinfo
from pathlib import Path

from config.loader import load
from config.model import Sampling
from quality.sampling import Decision, ServedCall, decide, draw, first_attempt_at, retry_at

# A frozen copy of the shipped example, so that editing the example breaks no unit test.
CONFIG = load(Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml")
RULES = CONFIG.sampling  # 10%, fault/complaints/installation, 1 h delay, 09-12 & 14-20
ALWAYS = RULES.model_copy(update={"rate": 1.0})
SALT = b"audit-salt"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ENDED = 1_795_000_000.0
DAY = 86400


def call(i: int, **kw: object) -> ServedCall:
    fields: dict[str, object] = {"call_id": f"1795000000.{i}", "caller_number": f"138{i:08d}",
                                 "queue": "complaints", "agent": "1003", "ended_at": ENDED}
    fields.update(kw)
    return ServedCall(**fields)  # type: ignore[arg-type]


def asked(served: ServedCall, rules: Sampling = RULES, *, opted_out: bool = False,
          last_surveyed_at: float | None = None) -> Decision:
    return decide(served, rules, SALT, opted_out=opted_out, last_surveyed_at=last_surveyed_at)


def by_hand(call_id: str, salt: bytes) -> float:
    """The docstring's recipe: HMAC-SHA256 of the call id (UTF-8) under the salt, its first
    eight bytes read as a big-endian integer, divided by 2**64."""
    digest = hmac.new(salt, call_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], byteorder="big") / 2**64


def test_the_draw_is_the_hmac_read_as_a_fraction() -> None:
    for call_id, salt in [("1733050000.42", b"salt"), ("1795000000.7", SALT), ("", b"k"),
                          ("call-\u00e9", b"\x00"), ("1795000000.12345", b"x" * 100)]:
        assert draw(call_id, salt) == by_hand(call_id, salt), call_id


def test_the_draw_known_answers() -> None:
    # HMAC-SHA256(key=b"salt", "1733050000.42") starts c3f3a2194c205ab7 (checked with
    # `openssl dgst -sha256 -hmac salt`); 0xc3f3a2194c205ab7 / 2**64:
    assert draw("1733050000.42", b"salt") == 0.7654362975846437
    # HMAC-SHA256(key=b"audit-salt", "1795000000.7") starts 73822f7a3ffc785a:
    assert draw("1795000000.7", SALT) == 0.4512052224599631
    assert draw("1733050000.42", b"salt") == 0xC3F3A2194C205AB7 / 2**64


def test_the_share_sampled_is_ten_percent_within_the_binomial_interval() -> None:
    n = 10_000
    sampled = sum(asked(call(i)).sampled for i in range(n))
    # 99.9% two-sided: z = 3.2905
    half_width = 3.2905 * math.sqrt(n * 0.1 * 0.9)
    assert abs(sampled - n * 0.1) <= half_width, sampled


def test_the_same_calls_give_the_same_sample_and_the_salt_matters() -> None:
    first = [asked(call(i)).sampled for i in range(2000)]
    again = [asked(call(i)).sampled for i in range(2000)]
    other = [decide(call(i), RULES, b"other", opted_out=False, last_surveyed_at=None).sampled
             for i in range(2000)]
    assert first == again and first != other
    assert 0 <= draw("x", SALT) < 1


def test_a_drawn_call_says_its_number() -> None:
    low = next(i for i in range(100) if draw(f"1795000000.{i}", SALT) < 0.1)
    value = draw(f"1795000000.{low}", SALT)
    assert asked(call(low)) == Decision(True, f"drawn {value:.4f} < 0.1")
    assert asked(call(7)) == Decision(False, "drawn 0.4512 ≥ 0.1")
    assert asked(call(7), ALWAYS) == Decision(True, "drawn 0.4512 < 1")


def test_the_rate_is_a_strict_bound() -> None:
    exactly = RULES.model_copy(update={"rate": draw("1795000000.7", SALT)})
    assert asked(call(7), exactly) == Decision(False, "drawn 0.4512 ≥ 0.451205")


def test_excluded_callers_are_never_sampled() -> None:
    assert asked(call(1), ALWAYS).sampled
    for number in ("anonymous", "", "  ", "Anonymous ", "UNKNOWN", "restricted", "Unavailable",
                   "private"):
        assert asked(call(1, caller_number=number), ALWAYS) == \
            Decision(False, "anonymous caller"), number
    assert asked(call(1), ALWAYS, opted_out=True) == \
        Decision(False, "caller asked not to be called")
    assert asked(call(1, queue="general"), ALWAYS) == \
        Decision(False, "queue general is not sampled")


def test_the_queue_rule_is_checked_first() -> None:
    assert asked(call(1, queue="general", caller_number="anonymous"), ALWAYS,
                 opted_out=True) == Decision(False, "queue general is not sampled")


def test_no_queue_list_means_every_queue() -> None:
    every = ALWAYS.model_copy(update={"queues": []})
    assert asked(call(1, queue="general"), every).sampled


def test_a_caller_surveyed_lately_is_left_alone_for_the_set_days() -> None:
    recent = asked(call(1), ALWAYS, last_surveyed_at=ENDED - 10 * DAY)
    assert recent == Decision(False, "surveyed within 30 days")
    assert asked(call(1), ALWAYS, last_surveyed_at=ENDED - 30 * DAY + 1) == \
        Decision(False, "surveyed within 30 days")
    assert asked(call(1), ALWAYS, last_surveyed_at=ENDED - 30 * DAY).sampled
    weekly = ALWAYS.model_copy(update={"at_most_every_days": 7})
    assert asked(call(1), weekly, last_surveyed_at=ENDED - 6 * DAY) == \
        Decision(False, "surveyed within 7 days")
    assert asked(call(1), weekly, last_surveyed_at=ENDED - 8 * DAY).sampled
    anytime = ALWAYS.model_copy(update={"at_most_every_days": 0})
    assert asked(call(1), anytime, last_surveyed_at=ENDED).sampled


def at(hour: int, minute: int = 0, day: int = 23, zone: dt.tzinfo = SHANGHAI) -> float:
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=zone).timestamp()


def test_callbacks_only_inside_calling_hours() -> None:
    assert first_attempt_at(call(1, ended_at=at(9, 30)), RULES, "Asia/Shanghai") == at(10, 30)
    # Ends 11:30: due 12:30, in the lunch gap, so 14:00.
    assert first_attempt_at(call(1, ended_at=at(11, 30)), RULES, "Asia/Shanghai") == at(14)
    # Ends 19:30: due 20:30, after hours, so 09:00 the next day.
    assert first_attempt_at(call(1, ended_at=at(19, 30)), RULES, "Asia/Shanghai") == \
        at(9, day=24)
    # Ends 06:00: due 07:00, before hours, so 09:00 the same day.
    assert first_attempt_at(call(1, ended_at=at(6)), RULES, "Asia/Shanghai") == at(9)
    assert retry_at(at(10), RULES, "Asia/Shanghai") == at(10, 30)
    assert retry_at(at(11, 45), RULES, "Asia/Shanghai") == at(14)


def test_the_edges_of_the_calling_hours() -> None:
    # Due at 08:00 exactly: opens at 09:00; due 09:00: then; due 12:00: that span is over.
    assert first_attempt_at(call(1, ended_at=at(8) - 3600), RULES, "Asia/Shanghai") == at(9)
    assert first_attempt_at(call(1, ended_at=at(8)), RULES, "Asia/Shanghai") == at(9)
    assert first_attempt_at(call(1, ended_at=at(11)), RULES, "Asia/Shanghai") == at(14)
    assert first_attempt_at(call(1, ended_at=at(10, 59)), RULES, "Asia/Shanghai") == \
        at(11, 59)
    assert first_attempt_at(call(1, ended_at=at(19)), RULES, "Asia/Shanghai") == at(9, day=24)


def test_calling_hours_are_read_in_the_hotlines_time_zone() -> None:
    # Pago Pago is UTC-11: 19:30 there on the 23rd is already the 24th almost everywhere.
    pago = zoneinfo.ZoneInfo("Pacific/Pago_Pago")
    assert retry_at(at(19, 30, zone=pago) - 1800, RULES, "Pacific/Pago_Pago") == \
        at(19, 30, zone=pago)
    assert retry_at(at(20, zone=pago) - 1800, RULES, "Pacific/Pago_Pago") == \
        at(9, day=24, zone=pago)


def test_calling_hours_in_any_order_and_none_at_all() -> None:
    shuffled = Sampling(survey="survey", calling_hours=["14:00-20:00", "09:00-12:00"],
                        delay=3600)
    assert first_attempt_at(call(1, ended_at=at(7)), shuffled, "Asia/Shanghai") == at(9)
    assert first_attempt_at(call(1, ended_at=at(12)), shuffled, "Asia/Shanghai") == at(14)
    anytime = Sampling(survey="survey", delay=600, retry_after=60)
    assert first_attempt_at(call(1, ended_at=at(3)), anytime, "Asia/Shanghai") == at(3, 10)
    assert retry_at(at(23, 59), anytime, "Asia/Shanghai") == at(0, day=24)

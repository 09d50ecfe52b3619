"""Which served calls get a satisfaction callback, and when. Pure, with the clock given.

The decision is an HMAC of the call id under a secret salt, read as a number in [0, 1)
and compared with the rate: the same call always gets the same answer (auditable,
reproducible), and nobody who does not hold the salt can tell or steer which calls
are sampled.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import zoneinfo
from dataclasses import dataclass

from config.model import Sampling

ANONYMOUS = {"", "anonymous", "unknown", "restricted", "unavailable", "private"}


@dataclass(frozen=True, slots=True)
class ServedCall:
    call_id: str
    caller_number: str
    queue: str
    agent: str
    ended_at: float  # unix time


@dataclass(frozen=True, slots=True)
class Decision:
    sampled: bool
    reason: str


def draw(call_id: str, salt: bytes) -> float:
    """The call's number in [0, 1): uniform, fixed for the call and the salt."""
    digest = hmac.new(salt, call_id.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide(call: ServedCall, rules: Sampling, salt: bytes, *, opted_out: bool,
           last_surveyed_at: float | None) -> Decision:
    if rules.queues and call.queue not in rules.queues:
        return Decision(False, f"queue {call.queue} is not sampled")
    if call.caller_number.strip().lower() in ANONYMOUS:
        return Decision(False, "anonymous caller")
    if opted_out:
        return Decision(False, "caller asked not to be called")
    window = rules.at_most_every_days * 86400
    if last_surveyed_at is not None and call.ended_at - last_surveyed_at < window:
        return Decision(False, f"surveyed within {rules.at_most_every_days} days")
    value = draw(call.call_id, salt)
    if value < rules.rate:
        return Decision(True, f"drawn {value:.4f} < {rules.rate:g}")
    return Decision(False, f"drawn {value:.4f} ≥ {rules.rate:g}")


def next_allowed(at: float, rules: Sampling, timezone: str) -> float:
    """The first moment at or after `at` inside the allowed calling hours."""
    if not rules.calling_hours:
        return at
    zone = zoneinfo.ZoneInfo(timezone)
    local = dt.datetime.fromtimestamp(at, zone)
    for day in range(8):
        date = (local + dt.timedelta(days=day)).date()
        for span in sorted(rules.calling_hours, key=lambda s: s.start):
            start = dt.datetime.combine(date, dt.time(), zone) + dt.timedelta(minutes=span.start)
            end = dt.datetime.combine(date, dt.time(), zone) + dt.timedelta(minutes=span.end)
            if end.timestamp() > at:
                return max(at, start.timestamp())
    raise ValueError("calling hours never open")  # unreachable: spans are non-empty


def first_attempt_at(call: ServedCall, rules: Sampling, timezone: str) -> float:
    return next_allowed(call.ended_at + rules.delay, rules, timezone)


def retry_at(previous_attempt: float, rules: Sampling, timezone: str) -> float:
    return next_allowed(previous_attempt + rules.retry_after, rules, timezone)

"""Queue statistics: what each counter means and the figures made from them. Pure.

The counters are kept per day, per queue and per VIP tier (and for the tier "all"), by
`hotline.queues.stats`. Service level is defined as app_queue defines it by default
(answered within the threshold / answered), with the stricter variant beside it where
every abandon past the short-abandon threshold counts against the queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ALL_TIERS = "all"


@dataclass(frozen=True, slots=True)
class QueueFigures:
    offered: int = 0  # callers who entered the queue (overflow in counts as entering)
    answered: int = 0
    answered_in_sl: int = 0  # answered within the service-level threshold
    abandoned: int = 0  # hung up while waiting, short ones included
    short_abandoned: int = 0
    overflowed: int = 0  # moved on to another queue
    timed_out: int = 0  # left by the maximum wait
    wait_ms: int = 0  # total wait of the answered calls (for ASA)
    handled: int = 0  # answered calls that have ended
    talk_ms: int = 0  # their total time with the agent (for AHT)
    starvation_warnings: int = 0  # callers near their tier's guaranteed wait, no agent

    @classmethod
    def from_counters(cls, raw: Mapping[str, str]) -> QueueFigures:
        return cls(**{name: int(raw.get(name, 0)) for name in cls.__slots__})

    @property
    def service_level(self) -> float | None:
        """app_queue's default: answered within the threshold, of those answered."""
        return self.answered_in_sl / self.answered if self.answered else None

    @property
    def service_level_with_abandons(self) -> float | None:
        counted = self.answered + self.abandoned - self.short_abandoned
        return self.answered_in_sl / counted if counted else None

    @property
    def asa(self) -> float | None:
        """Average speed of answer, seconds."""
        return self.wait_ms / self.answered / 1000 if self.answered else None

    @property
    def aht(self) -> float | None:
        """Average handle time, seconds (talk time; wrap-up is the agents' own figure)."""
        return self.talk_ms / self.handled / 1000 if self.handled else None


def answered_counters(waited: float, within: float) -> dict[str, int]:
    return {"answered": 1, "answered_in_sl": int(waited <= within),
            "wait_ms": int(waited * 1000)}


def abandoned_counters(waited: float, short_abandon: float) -> dict[str, int]:
    return {"abandoned": 1, "short_abandoned": int(waited < short_abandon)}


def expected_wait(position: int, recent_handle_times: list[float], agents_serving: int,
                  fallback: float = 60.0) -> float:
    """Seconds until a caller at `position` (1 = next) is likely answered: the callers
    ahead of them, served by the queue's agents at their recent pace."""
    pace = (sum(recent_handle_times) / len(recent_handle_times)
            if recent_handle_times else fallback)
    return pace * position / max(1, agents_serving)

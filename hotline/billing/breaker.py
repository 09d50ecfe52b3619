"""A circuit breaker: after a run of failures, stop asking for a while.

A caller should not wait out a timeout that is certain to happen again: while open,
calls fail at once and callers go to a person straight away.
"""

from __future__ import annotations

from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, failures_to_open: int, open_for: float,
                 clock: Callable[[], float]) -> None:
        self.failures_to_open = failures_to_open
        self.open_for = open_for
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        # Past `open_for` it is half-open: the next call is a trial.
        return self.opened_at is not None and self.clock() - self.opened_at < self.open_for

    def succeeded(self) -> None:
        self.failures = 0
        self.opened_at = None

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= self.failures_to_open:
            self.opened_at = self.clock()

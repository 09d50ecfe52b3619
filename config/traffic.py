"""The traffic file of `hotline simulate`: who calls, when, for how long, how patient.
Validated like the routing YAML (unknown keys are errors, each at its line).

    hours: 8                      # how long a day is simulated
    interval: 15m                 # the reports' interval
    queues:
      billing:
        per_hour: 200             # Poisson arrivals, steady...
        curve: [0.5, 1, 1.5, 1]   # ...or shaped: one factor per interval, repeating
        handle_time: {distribution: exponential, mean: 180s}
        patience: {distribution: exponential, mean: 120s}   # none: nobody hangs up
    tiers: {normal: 0.9, gold: 0.1}   # the VIP mix of callers (shares)
    logged_in: ["1001", "1002"]   # the YAML's agents on duty (all of them if absent)

Callers go straight to their queue: the menus do not change who is answered when.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.queues import Tier
from config.types import AgentId, Name, Seconds, Share, Strict


class Spread(Strict):
    """A distribution of seconds."""

    distribution: Literal["exponential", "lognormal", "fixed"] = "exponential"
    mean: Seconds
    # lognormal only: the standard deviation, in seconds
    deviation: Seconds | None = None

    @model_validator(mode="after")
    def _shape(self) -> Spread:
        if self.distribution == "lognormal" and not self.deviation:
            raise ValueError("a lognormal spread needs its deviation (seconds)")
        if self.mean <= 0:
            raise ValueError("the mean must be above 0 seconds")
        return self


class QueueTraffic(Strict):
    per_hour: float = Field(gt=0)
    curve: list[float] = Field(default_factory=list)
    handle_time: Spread
    patience: Spread | None = None

    @model_validator(mode="after")
    def _curve(self) -> QueueTraffic:
        if any(factor < 0 for factor in self.curve):
            raise ValueError("the curve's factors are 0 or more")
        return self


def _everyone_normal() -> dict[Tier, float]:
    return {"normal": 1.0}


class Traffic(Strict):
    hours: float = Field(default=8.0, gt=0, le=24 * 31)
    interval: Seconds = 900.0
    queues: dict[Name, QueueTraffic] = Field(min_length=1)
    tiers: dict[Tier, Share] = Field(default_factory=_everyone_normal)
    logged_in: list[AgentId] | None = None

    @model_validator(mode="after")
    def _mix(self) -> Traffic:
        if abs(sum(self.tiers.values()) - 1.0) > 1e-6:
            raise ValueError(f"the tiers' shares add up to {sum(self.tiers.values()):g}, not 1")
        if self.interval <= 0:
            raise ValueError("the interval must be above 0 seconds")
        return self

"""The traffic file of `hotline simulate`: who calls, when, for how long, how patient,
and who is on duty. Validated like the routing YAML (unknown keys are errors, each at
its line).

    hours: 8                      # how long a day is simulated
    interval: 15m                 # the reports' interval
    queues:
      billing:
        per_hour: 200             # Poisson arrivals, steady...
        curve: [0.5, 1, 1.5, 1]   # ...or shaped: one factor per interval, repeating
        handle_time: {distribution: exponential, mean: 180s}
        patience: {distribution: exponential, mean: 120s}   # none: nobody hangs up
        ring_time: {distribution: fixed, mean: 3s}          # the agent's phone rings
        rona: 0.02                # the share of rings an agent lets run out
      faults:
        per_day: 4000             # a day's total, spread over the intervals by the curve
        curve: [1, 2, 4, 4, 3, 2]
        handle_time: {distribution: empirical, samples: [120s, 200s, 95s, 310s]}
      general:
        handle_time: {distribution: exponential, mean: 240s}   # reached by its number only
    numbers:
      "10000":                    # callers of a number the YAML answers, down its menus
        per_hour: 120
        paths: {"1 2": 0.5, "2": 0.3, "": 0.2}   # the keys they press, and their share
        menu_time: {distribution: fixed, mean: 30s}
    tiers: {normal: 0.9, gold: 0.1}   # the VIP mix of callers (shares)...
    caller_numbers: callers.txt   # ...or numbers looked up in the billing backend
    logged_in: ["1001", "1002"]   # on duty all day (every YAML agent if no shifts either)
    shifts:                       # ...or on duty from start to end
      - {agents: ["1003", "1004"], start: 0h, end: 4h}
    back_after_rona: 60s          # how long an agent who let a ring run out is away

A queue's callers come straight to it, or by a number's menus: the path they take
(`ivr.paths`) decides their queue, or that they end in the menus (served there, or gone).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from config.queues import Tier
from config.types import AgentId, Name, Seconds, Share, Strict


class Spread(Strict):
    """A distribution of seconds."""

    distribution: Literal["exponential", "lognormal", "fixed", "empirical"] = "exponential"
    mean: Seconds | None = None  # every distribution's but the empirical one's
    # lognormal only: the standard deviation, in seconds
    deviation: Seconds | None = None
    # empirical only: observed values, drawn from with equal chance
    samples: list[Seconds] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> Spread:
        if self.distribution == "empirical":
            if not self.samples:
                raise ValueError("an empirical spread needs its samples (seconds)")
            if self.mean is not None:
                raise ValueError("an empirical spread takes its mean from its samples")
            return self
        if self.samples:
            raise ValueError(f"samples belong to an empirical spread, not {self.distribution}")
        if self.distribution == "lognormal" and not self.deviation:
            raise ValueError("a lognormal spread needs its deviation (seconds)")
        if self.mean is None or self.mean <= 0:
            raise ValueError("the mean must be above 0 seconds")
        return self

    @property
    def average(self) -> float:
        if self.distribution == "empirical":
            return sum(self.samples) / len(self.samples)
        assert self.mean is not None
        return self.mean


class Arrivals(Strict):
    per_hour: float | None = Field(default=None, gt=0)
    per_day: float | None = Field(default=None, gt=0)
    curve: list[float] = Field(default_factory=list)

    @model_validator(mode="after")
    def _arrivals(self) -> Arrivals:
        if self.per_hour is not None and self.per_day is not None:
            raise ValueError("give per_hour (a rate, shaped by the curve) or per_day (a "
                             "day's total, spread by the curve), one of them")
        if any(factor < 0 for factor in self.curve):
            raise ValueError("the curve's factors are 0 or more")
        if self.curve and not any(self.curve):
            raise ValueError("the curve has no factor above 0: nobody would call")
        return self

    @property
    def calls(self) -> bool:
        return self.per_hour is not None or self.per_day is not None


class QueueTraffic(Arrivals):
    """Callers who go straight to the queue (none without per_hour or per_day: the
    queue is then reached through `numbers`), and how its calls go."""

    handle_time: Spread
    patience: Spread | None = None
    ring_time: Spread | None = None
    rona: Share = 0.0

    @model_validator(mode="after")
    def _rona(self) -> QueueTraffic:
        if self.rona >= 1:
            raise ValueError("with rona 1 no agent ever answers")
        return self


class NumberTraffic(Arrivals):
    """Callers of a number the YAML answers, down its menus: `paths` maps the keys
    pressed (one per choice, the digits of a collect, spaced: "1 2", "3 1234#"; "" for
    none) to the share of callers who press them."""

    paths: dict[str, Share] = Field(min_length=1)
    menu_time: Spread | None = None  # how long they spend in the menus first

    @model_validator(mode="after")
    def _paths(self) -> NumberTraffic:
        if not self.calls:
            raise ValueError("a number's callers need per_hour or per_day")
        if abs(sum(self.paths.values()) - 1.0) > 1e-6:
            raise ValueError(f"the paths' shares add up to {sum(self.paths.values()):g}, not 1")
        return self


class Shift(Strict):
    agents: list[AgentId] = Field(min_length=1)
    start: Seconds = 0.0  # from the start of the simulated day
    end: Seconds

    @model_validator(mode="after")
    def _order(self) -> Shift:
        if self.end <= self.start:
            raise ValueError("a shift ends after it starts")
        return self


def _everyone_normal() -> dict[Tier, float]:
    return {"normal": 1.0}


class Traffic(Strict):
    hours: float = Field(default=8.0, gt=0, le=24 * 31)
    interval: Seconds = 900.0
    queues: dict[Name, QueueTraffic] = Field(default_factory=dict)
    numbers: dict[Annotated[str, Field(pattern=r"^[0-9*#+]{2,20}$")], NumberTraffic] = \
        Field(default_factory=dict)
    tiers: dict[Tier, Share] = Field(default_factory=_everyone_normal)
    # A file (beside the traffic file) of caller numbers, one a line: the tier mix is then
    # what the billing backend says of them, as the engine looks a caller up.
    caller_numbers: str | None = None
    logged_in: list[AgentId] | None = None
    shifts: list[Shift] = Field(default_factory=list)
    back_after_rona: Seconds = 60.0

    @model_validator(mode="after")
    def _mix(self) -> Traffic:
        if self.caller_numbers is not None and "tiers" in self.model_fields_set:
            raise ValueError("give tiers (a mix) or caller_numbers (looked up in the billing "
                             "backend), one of them")
        if abs(sum(self.tiers.values()) - 1.0) > 1e-6:
            raise ValueError(f"the tiers' shares add up to {sum(self.tiers.values()):g}, not 1")
        if self.interval <= 0:
            raise ValueError("the interval must be above 0 seconds")
        return self

    @property
    def calls(self) -> bool:
        """Whether anyone calls (a file that only says who is on duty, for a replayed
        day, has no callers)."""
        return bool(self.numbers) or any(flow.calls for flow in self.queues.values())

    @property
    def intervals(self) -> int:
        """How many report intervals a day holds (the last one may be cut short)."""
        return max(1, -int(-self.hours * 3600 // self.interval))

    def named_agents(self) -> set[str]:
        return set(self.logged_in or ()) | {a for shift in self.shifts for a in shift.agents}

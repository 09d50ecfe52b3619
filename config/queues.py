"""Skills, agents, queues and VIP tiers: who may serve whom, and in which order."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from config.phones import PhoneSettings
from config.types import AgentId, Name, Proficiency, Seconds, Share, Strict

TIERS = ("diamond", "gold", "silver", "normal")
Tier = Literal["diamond", "gold", "silver", "normal"]


class Skill(Strict):
    name: str


class Agent(Strict):
    name: str
    endpoint: str = Field(pattern=r"^[A-Za-z]+/[^\s]+$")  # PJSIP/agent-1001
    skills: dict[Name, Proficiency] = Field(min_length=1)
    wrap_up: Seconds = 10.0
    phone: PhoneSettings = PhoneSettings()  # this agent's own, over the `phones:` defaults


class RelaxStep(Strict):
    """After `after` seconds of waiting, agents with at least `min_proficiency` in the
    queue's skills may take the call."""

    after: Seconds
    min_proficiency: Proficiency


class Overflow(Strict):
    after: Seconds
    to: Name  # another queue; the caller keeps the original arrival time


class MaxWait(Strict):
    """What happens to a caller who waited `after` seconds."""

    after: Seconds
    then: Literal["callback", "voicemail", "queue", "menu"]
    target: Name | None = None  # the queue or menu node, for `queue` and `menu`

    @model_validator(mode="after")
    def _target(self) -> MaxWait:
        if self.then in ("queue", "menu") and not self.target:
            raise ValueError(f"'then: {self.then}' needs a target ({self.then} name)")
        return self


class ServiceLevel(Strict):
    answered_within: Seconds = 20.0
    target: Share = 0.85
    # app_queue's default counts only answered calls; operators often count abandons too.
    abandons_count: bool = False
    # A caller who hangs up sooner than this never really waited: counted apart, and
    # left out of the "abandons count" service level.
    short_abandon: Seconds = 5.0


class Announce(Strict):
    position: bool = True
    expected_wait: bool = True
    every: Seconds = 30.0


class Queue(Strict):
    name: str
    skills: dict[Name, Proficiency] = Field(min_length=1)
    strategy: Literal["best_proficiency", "longest_idle", "round_robin"] = "best_proficiency"
    relax: list[RelaxStep] = Field(default_factory=list)
    overflow: Overflow | None = None
    max_wait: MaxWait | None = None
    service_level: ServiceLevel = ServiceLevel()
    ring_timeout: Seconds = 15.0
    hold_music: str = "default"
    announce: Announce = Announce()
    # Where its waiting callers go if a new config version removes this queue.
    fallback: Name | None = None


class TierRule(Strict):
    priority: int = Field(ge=0, le=1000)
    max_wait: Seconds  # guaranteed: after this, the tier's caller is served next
    queue: Name | None = None  # a dedicated queue
    agents: list[AgentId] = Field(default_factory=list)  # dedicated agents


class Vip(Strict):
    # How a caller's tier is found: the customer directory (billing backend) by number.
    lookup: Literal["customer_directory"] = "customer_directory"
    # Priority points a waiting caller gains per second, so lower tiers are not starved.
    aging: float = Field(default=1.0, ge=0)
    tiers: dict[Tier, TierRule]

"""The routing YAML's contract: the root of the file and its smaller sections.

Secrets never live here: AMI and Redis credentials come from the engine's settings.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Literal

from pydantic import Field, HttpUrl, field_validator

from config.menus import MenuNode
from config.phones import Phone, Phones, phone_of
from config.queues import Agent, Queue, Skill, Vip
from config.types import AgentId, Digits, Hours, Key, Name, Seconds, Share, Strict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Numbers(Strict):
    """The numbers the hotline answers, and the menu node where each one's callers start."""

    unified: Digits  # the one number customers are told to call
    start: Name
    legacy: dict[Digits, Name] = Field(default_factory=dict)


class CallerRoute(Strict):
    """Callers whose number matches start elsewhere (Asterisk-style pattern: `_` then
    digits, X = any digit, Z = 1-9, N = 2-9, `.` = one or more of anything)."""

    callers: Annotated[str, Field(pattern=r"^_[0-9XZN\[\]\-.!*#+]+$")]
    start: Name


class Holiday(Strict):
    date: dt.date
    name: str
    hours: list[Hours] = Field(default_factory=list)  # empty: closed all day


class Calendar(Strict):
    timezone: str = "Asia/Shanghai"
    hours: dict[Weekday, list[Hours]]
    holidays: list[Holiday] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}': use a name like "
                             "Asia/Shanghai or Europe/Paris") from None
        return value


class Languages(Strict):
    default: Name
    offered: list[Name] = Field(min_length=1)


class Prompt(Strict):
    """What a caller hears: text per language (rendered to audio when no file is
    recorded), and optionally a recorded file that wins over the rendering."""

    text: dict[Name, str] = Field(min_length=1)
    file: str | None = None


class Recording(Strict):
    enabled: bool = True
    format: Literal["mixed", "stereo"] = "mixed"
    retention_days: int = Field(default=180, ge=1)
    keep_flagged: bool = True  # recordings flagged for a complaint or dispute stay


class Sampling(Strict):
    """The satisfaction callback sample."""

    rate: Share = 0.10
    queues: list[Name] = Field(default_factory=list)  # eligible queues; empty: all
    delay: Seconds = 3600.0
    calling_hours: list[Hours] = Field(default_factory=list)
    attempts: int = Field(default=3, ge=1, le=10)
    retry_after: Seconds = 1800.0
    ring_for: Seconds = 30.0  # how long the customer's phone rings before "no answer"
    survey: Name  # the menu node the callback starts in
    at_most_every_days: int = Field(default=30, ge=0)


class RedisBilling(Strict):
    """The built-in store: accounts and vouchers in the engine's Redis."""

    kind: Literal["redis"]
    timeout: Seconds = 2.0  # past this, the caller hears an apology and reaches a person
    pin_attempts: int = Field(default=3, ge=1, le=10)  # wrong PINs before a lock
    lock_for: Seconds = 1800.0


class HttpBilling(Strict):
    """The operator's own billing system, over HTTP/JSON."""

    kind: Literal["http"]
    url: HttpUrl
    timeout: Seconds = 2.0
    failures_to_open: int = Field(default=5, ge=1)  # circuit breaker
    open_for: Seconds = 30.0


class Backends(Strict):
    billing: Annotated[RedisBilling | HttpBilling, Field(discriminator="kind")] = RedisBilling(
        kind="redis")
    # The outbound channel for callbacks; {number} is the customer's number.
    callback_trunk: Annotated[str, Field(pattern=r"\{number\}")] = "PJSIP/{number}@trunk"


class Criterion(Strict):
    name: str  # as the reviewer and the reports show it
    weight: float = Field(gt=0)  # its share of the call's score, against the others'


class Review(Strict):
    """The monthly quality review of recorded calls (质检): how many of each agent's
    answered calls are picked each month, and the evaluation form they are scored on."""

    calls_per_agent: int = Field(default=10, ge=0, le=500)
    scale: int = Field(default=5, ge=2, le=10)  # each criterion is scored 1..scale
    criteria: dict[Name, Criterion] = Field(min_length=1, default_factory=lambda: {
        "accuracy": Criterion(name="accuracy", weight=1),
        "ownership": Criterion(name="ownership", weight=1),
        "initiative": Criterion(name="initiative", weight=1),
        "satisfaction": Criterion(name="customer satisfaction", weight=1)})


class Console(Strict):
    """What the supervisors' web console lets them do."""

    # Activate and roll back routing versions from the page (admins always may).
    supervisors_may_activate: bool = False


class HotlineConfig(Strict):
    version: int = Field(default=1, ge=1, le=1)
    name: str = "Customer hotline"
    numbers: Numbers
    caller_routes: list[CallerRoute] = Field(default_factory=list)
    calendar: Calendar
    languages: Languages
    prompts: dict[Name, Prompt]
    menus: dict[Name, MenuNode] = Field(min_length=1)
    skills: dict[Name, Skill] = Field(min_length=1)
    agents: dict[AgentId, Agent] = Field(default_factory=dict)
    queues: dict[Name, Queue] = Field(default_factory=dict)
    vip: Vip
    # Where callers go when a new version removed the node they were about to enter
    # (default: a person).
    fallback: Name | None = None
    # The reason digits an agent dials after *4 ("not ready"), as reports show them.
    not_ready_reasons: dict[Key, str] = Field(default_factory=lambda: {
        "1": "break", "2": "lunch", "3": "training", "4": "meeting", "9": "other"})
    # What an agent records a call as in wrap-up (code: label), counted per queue and day.
    dispositions: dict[Name, str] = Field(default_factory=lambda: {
        "resolved": "resolved", "follow_up": "needs a follow-up",
        "complaint": "complaint taken", "information": "information given",
        "transferred": "sent to another team"})
    recording: Recording = Recording()
    console: Console = Console()
    review: Review = Review()
    sampling: Sampling
    backends: Backends = Backends()
    phones: Phones = Phones()

    def phone(self, agent_id: str) -> Phone:
        """The agent's phone settings: `phones:` with the agent's own over them."""
        return phone_of(self.phones, self.agents[agent_id].phone)

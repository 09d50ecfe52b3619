"""The voice menu tree: one model per node kind, told apart by `kind`.

Every node names the nodes it can lead to in `targets()`, with where in the node the
name stands, so the cross-checks can find unknown names, unreachable nodes and loops
that trap a caller, and say exactly where they are.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from config.types import Key, Name, Seconds, Strict

# (where in the node, the node it leads to)
Target = tuple[tuple[str, ...], str]


class Node(Strict):
    kind: str

    def targets(self) -> list[Target]:
        return []

    def prompts(self) -> list[tuple[tuple[str, ...], str]]:
        return []

    @property
    def reaches_a_person_or_goodbye(self) -> bool:
        """True for nodes that end the caller's time in the menu by themselves."""
        return False


def _opt(path: str, name: str | None) -> list[Target]:
    return [((path,), name)] if name else []


class Play(Node):
    """Say a prompt, then go on."""

    kind: Literal["play"]
    prompt: Name
    next: Name

    def targets(self) -> list[Target]:
        return [(("next",), self.next)]

    def prompts(self) -> list[tuple[tuple[str, ...], str]]:
        return [(("prompt",), self.prompt)]


class Choice(Node):
    """A menu: one key chooses the next node. Silence or a wrong key replays the prompt
    up to `retries` times, then the caller goes to `fallback` (default: a person)."""

    kind: Literal["choice"]
    prompt: Name
    keys: dict[Key, Name] = Field(min_length=1)
    timeout: Seconds = 5.0
    retries: int = Field(default=2, ge=0, le=9)
    invalid: Name | None = None
    no_input: Name | None = None
    fallback: Name | None = None

    def targets(self) -> list[Target]:
        out = [(("keys", key), node) for key, node in self.keys.items()]
        return out + _opt("fallback", self.fallback)

    def prompts(self) -> list[tuple[tuple[str, ...], str]]:
        named = (("prompt", self.prompt), ("invalid", self.invalid), ("no_input", self.no_input))
        return [((field,), prompt) for field, prompt in named if prompt]

    @property
    def reaches_a_person_or_goodbye(self) -> bool:
        return self.fallback is None  # the default fallback is a person


class Collect(Node):
    """Digits typed by the caller (a card number, a PIN), kept as `store_as`."""

    kind: Literal["collect"]
    prompt: Name
    store_as: Name
    min_digits: int = Field(default=1, ge=1, le=64)
    max_digits: int = Field(default=20, ge=1, le=64)
    terminator: Literal["#", "*"] | None = "#"
    timeout: Seconds = 8.0
    retries: int = Field(default=2, ge=0, le=9)
    validate_as: Literal["luhn"] | None = Field(default=None, alias="validate")
    sensitive: bool = False
    invalid: Name | None = None
    next: Name
    fallback: Name | None = None

    @model_validator(mode="after")
    def _lengths(self) -> Collect:
        if self.max_digits < self.min_digits:
            raise ValueError(f"max_digits ({self.max_digits}) is below min_digits "
                             f"({self.min_digits})")
        return self

    def targets(self) -> list[Target]:
        return [(("next",), self.next), *_opt("fallback", self.fallback)]

    def prompts(self) -> list[tuple[tuple[str, ...], str]]:
        return [(("prompt",), self.prompt), *((("invalid",), p) for p in [self.invalid] if p)]

    @property
    def reaches_a_person_or_goodbye(self) -> bool:
        return self.fallback is None


class Say(Node):
    """Read a value out: a number, digits, money (yuan/jiao/fen) or a date."""

    kind: Literal["say"]
    what: Literal["number", "digits", "money", "date"]
    value: Name  # a value the call holds: collected digits, balance, bill due date
    prompt: Name | None = None  # said before the value
    next: Name

    def targets(self) -> list[Target]:
        return [(("next",), self.next)]

    def prompts(self) -> list[tuple[tuple[str, ...], str]]:
        return [(("prompt",), self.prompt)] if self.prompt else []


class SelfService(Node):
    """Balance, last bill or voucher top-up, answered by the billing backend. When the
    backend fails, the caller goes to `failed` (default: an apology and a person)."""

    kind: Literal["balance", "last_bill", "top_up"]
    next: Name
    failed: Name | None = None
    voucher_from: Name | None = None  # top-up: the collected card number
    pin_from: Name | None = None  # top-up: the collected PIN
    wrong_pin: Name | None = None  # top-up: where a wrong PIN goes (default: failed)
    refused: Name | None = None  # top-up: voucher used, unknown or locked (default: failed)

    @model_validator(mode="after")
    def _top_up_inputs(self) -> SelfService:
        if self.kind == "top_up" and not (self.voucher_from and self.pin_from):
            raise ValueError("a top_up node needs voucher_from and pin_from "
                             "(the collect nodes' store_as names)")
        return self

    def targets(self) -> list[Target]:
        return [(("next",), self.next), *_opt("failed", self.failed),
                *_opt("wrong_pin", self.wrong_pin), *_opt("refused", self.refused)]


class ToQueue(Node):
    """Hand the caller to a queue: from here a person takes over."""

    kind: Literal["queue"]
    queue: Name
    priority_boost: int = Field(default=0, ge=-100, le=100)

    @property
    def reaches_a_person_or_goodbye(self) -> bool:
        return True


class Goto(Node):
    kind: Literal["goto"]
    target: Name

    def targets(self) -> list[Target]:
        return [(("target",), self.target)]


class HangUp(Node):
    kind: Literal["hangup"]
    prompt: Name | None = None

    def prompts(self) -> list[tuple[tuple[str, ...], str]]:
        return [(("prompt",), self.prompt)] if self.prompt else []

    @property
    def reaches_a_person_or_goodbye(self) -> bool:
        return True


class SetLanguage(Node):
    kind: Literal["language"]
    language: Name
    next: Name

    def targets(self) -> list[Target]:
        return [(("next",), self.next)]


class BusinessHours(Node):
    """Open or closed now, by the calendar."""

    kind: Literal["hours"]
    open: Name
    closed: Name

    def targets(self) -> list[Target]:
        return [(("open",), self.open), (("closed",), self.closed)]


class VipBranch(Node):
    """Branch on the caller's VIP tier, looked up when the call arrived."""

    kind: Literal["vip"]
    tiers: dict[Name, Name] = Field(min_length=1)
    otherwise: Name

    def targets(self) -> list[Target]:
        by_tier: list[Target] = [(("tiers", t), n) for t, n in self.tiers.items()]
        return [*by_tier, (("otherwise",), self.otherwise)]


class VoiceComment(Node):
    """The caller speaks after the beep (a survey's comment on a low grade); the
    recording is kept with the survey result. `#` or hanging up ends it early."""

    kind: Literal["voice_comment"]
    prompt: Name
    max_length: Seconds = Field(default=60.0, gt=0, le=600)
    next: Name

    def targets(self) -> list[Target]:
        return [(("next",), self.next)]

    def prompts(self) -> list[tuple[tuple[str, ...], str]]:
        return [(("prompt",), self.prompt)]


MenuNode = Annotated[
    Play | Choice | Collect | Say | SelfService | ToQueue | Goto | HangUp | SetLanguage
    | BusinessHours | VipBranch | VoiceComment,
    Field(discriminator="kind"),
]

NODE_KINDS = ("play", "choice", "collect", "say", "balance", "last_bill", "top_up", "queue",
              "goto", "hangup", "language", "hours", "vip", "voice_comment")

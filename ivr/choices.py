"""What a key, or no key, means at a choice node. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from config.menus import Choice


@dataclass(frozen=True, slots=True)
class Go:
    node: str


@dataclass(frozen=True, slots=True)
class Retry:
    prompt: str | None  # the invalid or no-input prompt to play first, if any


@dataclass(frozen=True, slots=True)
class GiveUp:
    """No valid key after every retry: to the node's fallback, or to a person."""

    node: str | None


def after_key(node: Choice, key: str, attempt: int) -> Go | Retry | GiveUp:
    """`attempt` counts from 1; a node with `retries: 2` asks three times."""
    if key in node.keys:
        return Go(node.keys[key])
    if attempt > node.retries:
        return GiveUp(node.fallback)
    return Retry(node.no_input if key == "" else node.invalid)


def luhn_ok(digits: str) -> bool:
    """The check digit of card numbers (vouchers use it too)."""
    # isdigit() alone takes full-width digits and "²"; a keypad sends ASCII only.
    if not (digits.isascii() and digits.isdigit()):
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0

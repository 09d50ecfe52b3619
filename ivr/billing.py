"""What self-service asks of the operator's billing system, and nothing of how.

Two implementations: the built-in Redis store (`hotline.billing.redis_store`, the embedded
default) and an HTTP/JSON adapter for an operator's own system (`hotline.billing.http`).
Amounts are whole fen (1/100 yuan), never floats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol


class BillingUnavailable(Exception):
    """The backend did not answer in time, or is known to be down (circuit open)."""


@dataclass(frozen=True, slots=True)
class Account:
    number: str
    balance_fen: int
    tier: str = "normal"


@dataclass(frozen=True, slots=True)
class Bill:
    amount_fen: int
    due: dt.date


TopUpOutcome = Literal["credited", "wrong_pin", "locked", "used", "unknown_voucher",
                       "no_account"]


@dataclass(frozen=True, slots=True)
class TopUp:
    outcome: TopUpOutcome
    new_balance_fen: int | None = None
    credited_fen: int = 0


class BillingBackend(Protocol):
    async def account(self, number: str) -> Account | None: ...

    async def last_bill(self, number: str) -> Bill | None: ...

    async def redeem(self, number: str, voucher: str, pin: str, request_id: str) -> TopUp:
        """Credit a voucher to an account exactly once. `request_id` makes a retry
        after a timeout return the first answer instead of crediting again."""

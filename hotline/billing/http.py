"""The billing backend over HTTP/JSON, for an operator's own billing system.

The operator's service answers:
    GET  {url}/accounts/{number}        {"balance_fen": 1234, "tier": "gold"}
    GET  {url}/accounts/{number}/bill   {"amount_fen": 8800, "due": "2026-12-15"}
    POST {url}/accounts/{number}/topups {"voucher": ..., "pin": ..., "request_id": ...}
         -> {"outcome": "credited", "new_balance_fen": 2234, "credited_fen": 1000}
A 404 means no such account. Every request has a timeout and goes through a circuit
breaker; a failure of any kind, a malformed answer included, raises BillingUnavailable,
which sends the caller to a person.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar, get_args
from urllib.parse import quote, urlsplit

from hotline.billing.breaker import CircuitBreaker
from ivr.billing import Account, Bill, BillingUnavailable, TopUp, TopUpOutcome

T = TypeVar("T")
_OUTCOMES = set(get_args(TopUpOutcome))


class HttpBilling:
    def __init__(self, url: str, timeout: float, breaker: CircuitBreaker) -> None:
        parts = urlsplit(url.rstrip("/"))
        if parts.scheme != "http":
            raise ValueError("the billing adapter speaks plain http to a local gateway; "
                             "put TLS in front of it")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path
        self.timeout = timeout
        self.breaker = breaker

    async def account(self, number: str) -> Account | None:
        return await self._call("GET", f"/accounts/{quote(number)}", None, lambda d: Account(
            number, int(d["balance_fen"]), str(d.get("tier", "normal"))))

    async def last_bill(self, number: str) -> Bill | None:
        return await self._call("GET", f"/accounts/{quote(number)}/bill", None, lambda d: Bill(
            int(d["amount_fen"]), dt.date.fromisoformat(d["due"])))

    async def redeem(self, number: str, voucher: str, pin: str, request_id: str) -> TopUp:
        result = await self._call(
            "POST", f"/accounts/{quote(number)}/topups",
            {"voucher": voucher, "pin": pin, "request_id": request_id}, _top_up)
        return result if result is not None else TopUp("no_account")

    async def _call(self, method: str, path: str, body: dict[str, str] | None,
                    read: Callable[[dict[str, Any]], T]) -> T | None:
        """One request; None for 404. Anything else that is not a readable answer
        (timeout, refused, a 5xx, a body that is not the agreed JSON) counts against
        the circuit breaker and raises BillingUnavailable, naming what was wrong."""
        if self.breaker.is_open:
            raise BillingUnavailable("billing backend circuit open")
        try:
            async with asyncio.timeout(self.timeout):
                status, payload = await self._request(method, self.path + path, body)
        except (TimeoutError, OSError, ValueError, EOFError) as exc:
            # EOFError: the body ended before its Content-Length (IncompleteReadError).
            self.breaker.failed()
            raise BillingUnavailable(f"billing backend: {exc or 'timed out'}") from None
        if status == 404:
            self.breaker.succeeded()
            return None
        if status != 200:
            self.breaker.failed()
            raise BillingUnavailable(f"billing backend answered {status}")
        try:
            data = json.loads(payload)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            answer = read(data)
        except (ValueError, KeyError, TypeError) as exc:
            self.breaker.failed()
            raise BillingUnavailable(f"billing backend answered {method} {path} with an "
                                     f"unreadable body ({type(exc).__name__}: {exc})") from None
        self.breaker.succeeded()
        return answer

    async def _request(self, method: str, path: str,
                       body: dict[str, str] | None) -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            data = json.dumps(body).encode() if body is not None else b""
            head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nConnection: close\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
            writer.write(head.encode() + data)
            await writer.drain()
            status = _status(await reader.readline())
            length = None
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            payload = await (reader.readexactly(length) if length is not None
                             else reader.read())
            return status, payload
        finally:
            writer.close()


def _status(line: bytes) -> int:
    """The status code of an HTTP status line; ValueError for anything else (an empty
    answer from a service that closed the connection, say)."""
    parts = line.split()
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not an HTTP answer: {line[:60]!r}")
    return int(parts[1])


def _top_up(data: dict[str, Any]) -> TopUp:
    outcome = data["outcome"]
    if outcome not in _OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    balance = data.get("new_balance_fen")
    return TopUp(outcome, int(balance) if balance is not None else None,
                 int(data.get("credited_fen", 0)))


def http_billing(url: str, timeout: float, failures_to_open: int,
                 open_for: float) -> HttpBilling:
    return HttpBilling(url, timeout, CircuitBreaker(failures_to_open, open_for, time.monotonic))

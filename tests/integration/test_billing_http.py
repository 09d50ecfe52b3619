"""The HTTP billing adapter against a real HTTP service on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import pytest

from hotline.billing.breaker import CircuitBreaker
from hotline.billing.http import HttpBilling
from ivr.billing import BillingUnavailable


@pytest.fixture
async def billing_service() -> AsyncIterator[tuple[int, list[str]]]:
    """An operator's billing system: one account, one voucher; logs request lines."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = (await reader.readline()).decode()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = json.loads(await reader.readexactly(length)) if length else {}
        seen.append(request.strip())
        method, path, _ = request.split()
        status, answer = 404, {}
        if path == "/billing/accounts/13800000007":  # a service that closes, saying nothing
            writer.close()
            return
        if path == "/billing/accounts/13800000006":  # a body cut short
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"bal")
            await writer.drain()
            writer.close()
            return
        if path == "/billing/accounts/13800000009":  # a gateway answering garbage
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n<html>oops")
            await writer.drain()
            writer.close()
            return
        if path == "/billing/accounts/13800000008":  # valid JSON, not the contract
            status, answer = 200, {"balance": "12.34"}
        elif path == "/billing/accounts/13800000001":
            status, answer = 200, {"balance_fen": 4321, "tier": "gold"}
        elif path == "/billing/accounts/13800000001/bill":
            status, answer = 200, {"amount_fen": 8800, "due": "2026-12-15"}
        elif path == "/billing/accounts/13800000001/topups" and method == "POST":
            ok = body == {"voucher": "4539578763621486", "pin": "123456",
                          "request_id": "r1"}
            status, answer = 200, ({"outcome": "credited", "new_balance_fen": 9321,
                                    "credited_fen": 5000} if ok else {"outcome": "wrong_pin"})
        data = json.dumps(answer).encode()
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: {len(data)}\r\n\r\n".encode()
                     + data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1], seen
    server.close()
    await server.wait_closed()


async def test_account_bill_and_top_up_over_http(
        billing_service: tuple[int, list[str]]) -> None:
    port, seen = billing_service
    backend = HttpBilling(f"http://127.0.0.1:{port}/billing", 2.0,
                          CircuitBreaker(3, 30, time.monotonic))
    account = await backend.account("13800000001")
    assert account is not None and (account.balance_fen, account.tier) == (4321, "gold")
    bill = await backend.last_bill("13800000001")
    assert bill is not None and bill.amount_fen == 8800 and bill.due.isoformat() == "2026-12-15"
    assert await backend.account("13900000000") is None
    top_up = await backend.redeem("13800000001", "4539578763621486", "123456", "r1")
    assert (top_up.outcome, top_up.new_balance_fen) == ("credited", 9321)
    assert seen[-1] == "POST /billing/accounts/13800000001/topups HTTP/1.1"


async def test_a_malformed_answer_is_a_clear_failure_not_a_crash(
        billing_service: tuple[int, list[str]]) -> None:
    port, _ = billing_service
    backend = HttpBilling(f"http://127.0.0.1:{port}/billing", 2.0,
                          CircuitBreaker(2, 30, time.monotonic))
    with pytest.raises(BillingUnavailable, match=r"unreadable body .*JSONDecodeError"):
        await backend.account("13800000009")
    with pytest.raises(BillingUnavailable, match=r"unreadable body .*KeyError.*balance_fen"):
        await backend.account("13800000008")
    assert backend.breaker.is_open  # two bad answers in a row: stop asking for a while


async def test_an_empty_or_cut_answer_counts_against_the_breaker(
        billing_service: tuple[int, list[str]]) -> None:
    port, _ = billing_service
    backend = HttpBilling(f"http://127.0.0.1:{port}/billing", 2.0,
                          CircuitBreaker(2, 30, time.monotonic))
    with pytest.raises(BillingUnavailable, match="not an HTTP answer"):
        await backend.account("13800000007")
    assert not backend.breaker.is_open and backend.breaker.failures == 1
    with pytest.raises(BillingUnavailable):
        await backend.account("13800000006")
    assert backend.breaker.is_open


async def test_the_circuit_opens_after_failures_and_fails_fast() -> None:
    backend = HttpBilling("http://127.0.0.1:9/billing", 0.5,  # nothing listens on 9
                          CircuitBreaker(2, 30, time.monotonic))
    for _ in range(2):
        with pytest.raises(BillingUnavailable):
            await backend.account("13800000001")
    started = time.monotonic()
    with pytest.raises(BillingUnavailable, match="circuit open"):
        await backend.account("13800000001")
    assert time.monotonic() - started < 0.05  # no connection attempted

"""The voucher script on a real Redis: exactly once, whatever the concurrency."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from redis.asyncio import Redis

from hotline.billing.redis_store import RedisBilling

pytestmark = pytest.mark.redis
_prefixes = itertools.count(1)


@pytest.fixture
def store(redis: Redis) -> RedisBilling:
    return RedisBilling(redis, f"vouchers-{next(_prefixes)}:", b"k", pin_attempts=3,
                        lock_seconds=60)


async def test_a_hundred_concurrent_redemptions_credit_once(store: RedisBilling) -> None:
    await store.issue_voucher("4539578763621486", "123456", 5000)
    numbers = [f"1380000{i:04d}" for i in range(100)]
    for number in numbers:
        await store.open_account(number, 0)
    results = await asyncio.gather(*(store.redeem(n, "4539578763621486", "123456", f"r-{n}")
                                     for n in numbers))
    assert sorted(r.outcome for r in results).count("credited") == 1
    assert {r.outcome for r in results} == {"credited", "used"}
    assert len(await store.ledger()) == 1
    balances = [(await store.account(n)).balance_fen for n in numbers]  # type: ignore[union-attr]
    assert sum(balances) == 5000


async def test_a_retried_request_is_answered_not_credited_again(store: RedisBilling) -> None:
    await store.issue_voucher("4485275742308327", "999999", 1500)
    await store.open_account("13900000000", 100)
    first = await store.redeem("13900000000", "4485275742308327", "999999", "req-1")
    again = await store.redeem("13900000000", "4485275742308327", "999999", "req-1")
    assert first == again and first.outcome == "credited" and first.new_balance_fen == 1600
    assert (await store.account("13900000000")).balance_fen == 1600  # type: ignore[union-attr]


async def test_wrong_pins_lock_the_voucher_and_the_account(store: RedisBilling) -> None:
    await store.issue_voucher("4716461583322103", "111111", 1000)
    await store.issue_voucher("4539578763621486", "222222", 1000)
    await store.open_account("13700000000", 0)
    outcomes = [(await store.redeem("13700000000", "4716461583322103", pin, f"w{i}")).outcome
                for i, pin in enumerate(["000000", "000001", "000002"])]
    assert outcomes == ["wrong_pin", "wrong_pin", "locked"]
    # The right PIN now, and even another voucher on the same account: locked.
    right = await store.redeem("13700000000", "4716461583322103", "111111", "w3")
    other = await store.redeem("13700000000", "4539578763621486", "222222", "w4")
    assert (right.outcome, other.outcome) == ("locked", "locked")

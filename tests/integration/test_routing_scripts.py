"""The routing scripts that move callers between lines, against a real redis-server."""

from __future__ import annotations

import itertools

import pytest
from redis.asyncio import Redis

from routing.decide import WaitingCall
from routing.store import RoutingStore

pytestmark = pytest.mark.redis

_prefixes = itertools.count(1)


def fresh_store(redis: Redis) -> RoutingStore:
    return RoutingStore(redis, f"scripts-{next(_prefixes)}:")


async def test_an_overflowed_caller_keeps_their_place_by_arrival(redis: Redis) -> None:
    store = fresh_store(redis)
    await store.join(WaitingCall("early", "faults", 50.0), "PJSIP/early")
    await store.join(WaitingCall("late", "faults", 150.0), "PJSIP/late")
    await store.join(WaitingCall("moved", "billing", 100.0, "gold"), "PJSIP/moved")

    await store.move_to_queue("moved", "billing", "faults")

    assert [c.call_id for c in await store.waiting("faults")] == ["early", "moved", "late"]
    assert await store.waiting("billing") == []
    record = await store.call("moved")
    assert (record["queue"], record["state"], record["tier"]) == ("faults", "waiting", "gold")
    assert store.keys.waiting("faults") in await redis.smembers(store.keys.lines)


async def test_moving_a_caller_who_already_left_puts_nobody_in_the_new_line(
        redis: Redis) -> None:
    store = fresh_store(redis)
    await store.join(WaitingCall("gone", "billing", 100.0), "PJSIP/gone")
    await store.leave("gone", "billing")

    await store.move_to_queue("gone", "billing", "faults")

    assert await store.waiting_count("faults") == 0
    assert (await store.call("gone"))["state"] == "gone"

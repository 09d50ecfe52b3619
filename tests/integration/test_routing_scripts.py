"""The routing scripts that move callers between lines, against a real redis-server."""

from __future__ import annotations

import itertools

import pytest
from redis.asyncio import Redis

from hotline.queues.outcomes import about_the_call
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


async def test_a_call_moves_on_only_for_an_event_on_its_own_channel(redis: Redis) -> None:
    store = fresh_store(redis)
    await store.join(WaitingCall("caller", "faults", 50.0), "PJSIP/caller-1")
    await redis.hset(store.keys.call("caller"), mapping={"state": "offered", "agent": "1001"})
    # A forged event (a caller ID carrying CR/LF) names the call but not its channel.
    moved, fields = await store.advance_call_on("caller", "PJSIP/forger-9", "offered",
                                                "connected")
    assert not moved and not about_the_call(fields, "PJSIP/forger-9")
    assert (await store.call("caller"))["state"] == "offered"
    moved, fields = await store.advance_call_on("caller", "PJSIP/caller-1", "offered",
                                                "connected")
    assert moved and about_the_call(fields, "PJSIP/caller-1")
    assert fields["state"] == "offered"  # as it was
    assert (await store.call("caller"))["state"] == "connected"
    # The same event handled by a second engine: the call has moved on already.
    assert not (await store.advance_call_on("caller", "PJSIP/caller-1", "offered",
                                            "connected"))[0]


async def test_a_customer_called_back_has_their_leg_on_record_from_the_answer(
        redis: Redis) -> None:
    store = fresh_store(redis)
    await redis.hset(store.keys.call("kept"), mapping={
        "state": "offered", "agent": "1001", "callback": "13800000000", "channel": ""})
    moved, fields = await store.advance_call_on("kept", "Local/cb-1;1", "offered", "connected")
    assert moved and about_the_call(fields, "Local/cb-1;1")
    record = await store.call("kept")
    assert (record["state"], record["channel"]) == ("connected", "Local/cb-1;1")
    # From now on only that leg's events are about the call.
    assert not (await store.advance_call_on("kept", "Local/other;1", "connected", "ended"))[0]
    assert (await store.advance_call_on("kept", "Local/cb-1;1", "connected", "ended"))[0]

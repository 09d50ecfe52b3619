"""The express lane's one script at the claim, against a real redis-server: the claim,
the record, the VIP tier from the directory, the join and the reservation happen
together for the engine that wins the call, and nothing is joined otherwise."""

from __future__ import annotations

import itertools
import time
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from agents.state import Move
from hotline.calls.express import ExpressClaim, ExpressLane
from hotline.calls.records import CallLog
from hotline.queues.service import Queues
from pbx.ami import AmiConnection
from pbx.ports import Call
from routing.decide import WaitingCall
from routing.store import Joined, Reserved, RoutingStore
from tests.integration.helpers import until
from tests.integration.test_ready_set import RecordingAmi, _redirects, agent, one_queue_hotline

pytestmark = pytest.mark.redis

_prefixes = itertools.count(1)


class Floor:
    def __init__(self, redis: Redis) -> None:
        prefix = f"express-{time.time_ns()}-{next(_prefixes)}:"
        self.redis = redis
        self.calls = CallLog(redis, prefix, time.time, 3600)
        self.routing = RoutingStore(redis, prefix)
        # The lane's planning side (config, directory, matcher) is not used here.
        nothing = cast(Any, None)
        self.lane = ExpressLane(redis, self.calls, self.routing, nothing, nothing, nothing,
                                time.time)
        self.account = f"{prefix}{{billing}}:account:"

    async def ready(self, agent_id: str) -> None:
        await self.routing.apply(agent_id, Move.LOG_IN, 100.0)
        await self.routing.apply(agent_id, Move.GO_READY, 100.0)

    async def claim(self, call_id: str, engine: str, agent_id: str = "1001",
                    number: str = "13800000001") -> ExpressClaim:
        call = Call(call_id, f"PJSIP/trunk-{call_id}", number, "Caller", "10000")
        return await self.lane.claim_and_join(
            call, engine, "", self.account + number,
            WaitingCall(call_id, "billing", 200.0, "", 0), agent_id, "agent", 200.0)


async def test_the_winner_claims_joins_and_reserves_in_one_script(redis: Redis) -> None:
    floor = Floor(redis)
    await floor.ready("1001")
    await redis.hset(floor.account + "13800000001", mapping={"tier": "gold"})

    got = await floor.claim("call-1", "engine-a")
    assert (got.owner, got.tier, got.reserved) == (None, "gold", True)
    routed = await floor.routing.call("call-1")
    assert (routed["state"], routed["agent"], routed["tier"], routed["menu_path"]) == \
        ("offered", "1001", "gold", "agent")
    assert (await floor.routing.agent("1001"))["state"] == "reserved"
    assert await floor.calls.owner("call-1") == "engine-a"
    assert (await floor.calls.record("call-1"))["open"] == "1"

    # The peer that heard the same AsyncAGIStart: told the owner, nothing touched.
    lost = await floor.claim("call-1", "engine-b", agent_id="1002")
    assert (lost.owner, lost.reserved) == ("engine-a", False)
    assert (await floor.routing.call("call-1"))["agent"] == "1001"


async def test_a_pair_or_nothing_at_all(redis: Redis) -> None:
    floor = Floor(redis)
    # An unknown number, or a tier the hotline does not have, is served as normal; the
    # agent was taken meanwhile: the caller is not joined, and joins later as usual.
    await redis.hset(floor.account + "13800000002", mapping={"tier": "platinum"})
    got = await floor.claim("call-2", "engine-a", number="13800000002")
    assert (got.owner, got.tier, got.reserved, got.agent_taken) == (None, "normal", False,
                                                                    True)
    assert await floor.routing.call("call-2") == {}
    assert await floor.calls.owner("call-2") == "engine-a"  # the claim holds all the same

    # Someone already waits: the matcher orders them, and the agent stays free.
    await floor.ready("1001")
    await floor.routing.join(WaitingCall("early", "billing", 150.0), "PJSIP/early")
    got = await floor.claim("call-3", "engine-a")
    assert (got.reserved, got.agent_taken) == (False, False)
    assert await floor.routing.call("call-3") == {}
    assert (await floor.routing.agent("1001"))["state"] == "ready"
    assert [c.call_id for c in await floor.routing.waiting("billing")] == ["early"]


async def test_an_agent_reserved_at_the_claim_is_rung_at_the_join_or_let_go(
        redis: Redis) -> None:
    floor = Floor(redis)
    config = one_queue_hotline({"1001": agent({"billing": 9}), "1002": agent({"billing": 8})})
    ami = RecordingAmi()
    queues = Queues(cast(AmiConnection, ami), floor.routing, lambda: config, time.time)
    for agent_id in config.agents:
        await floor.ready(agent_id)
    assert (await floor.claim("served", "engine-a", agent_id="1001")).reserved
    assert (await floor.claim("gone", "engine-a", agent_id="1002")).reserved
    matcher = queues.matcher
    matcher.reserved_ahead("served", "1001", "billing")
    matcher.reserved_ahead("gone", "1002", "billing")

    # The menu brings the first caller to the queue: their agent is rung, no join again.
    matcher.here["served"] = {"channel": "PJSIP/trunk-served", "number": "13800000001",
                              "menu_path": "agent"}
    joined = await matcher.join(config, WaitingCall("served", "billing", 200.0),
                                "PJSIP/trunk-served", "13800000001", "agent")
    assert joined == Joined(Reserved.YES, 1)
    assert await _redirects(ami, 1) == {"PJSIP/trunk-served": "1001"}

    # The second hangs up before their menu gets there: the agent is free again.
    matcher.release_ahead("gone")
    await until(lambda: floor.routing.agent("1002"), 5, "agent 1002 ready again",
                holds=lambda fields: fields.get("state") == "ready")
    assert (await floor.routing.call("gone"))["state"] == "gone"
    assert (await floor.routing.agent("1001"))["state"] == "reserved"
    await queues.stop()

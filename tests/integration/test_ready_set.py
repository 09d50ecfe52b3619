"""The ready set in Redis: kept by the scripts that move agents, emptied by reservations.

A real redis-server (the session's), no Asterisk: the matcher's AMI side is a stand-in
that only records what it was asked to send.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Mapping
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from agents.state import Move
from config.model import HotlineConfig
from config.queues import Agent, Queue, RelaxStep, TierRule, Vip
from hotline.queues.service import Queues
from pbx.ami import AmiConnection
from routing.decide import WaitingCall
from routing.store import Joined, Reserved, RoutingStore
from tests.integration.helpers import until

pytestmark = [pytest.mark.redis]

_stores = itertools.count(1)


def fresh_store(redis: Redis) -> RoutingStore:
    return RoutingStore(redis, f"ready-test-{time.time_ns()}-{next(_stores)}:")


def agent(skills: Mapping[str, int]) -> Agent:
    return Agent(name="Agent", endpoint="PJSIP/agent", skills=dict(skills))


async def make_ready(store: RoutingStore, agent_id: str, now: float) -> None:
    await store.apply(agent_id, Move.LOG_IN, now)
    await store.apply(agent_id, Move.GO_READY, now)


async def test_the_ready_set_follows_agent_moves(redis: Redis) -> None:
    store = fresh_store(redis)
    await store.apply("1001", Move.LOG_IN, 100.0)
    assert await store.view.ready_agents() == {}
    await store.apply("1001", Move.GO_READY, 101.5)
    await make_ready(store, "1002", 102.0)
    assert await store.view.ready_agents() == {"1001": 101.5, "1002": 102.0}

    await store.apply("1001", Move.GO_NOT_READY, 103.0)
    assert await store.view.ready_agents() == {"1002": 102.0}
    await store.apply("1001", Move.GO_READY, 104.0)  # idle again: since now
    await store.apply("1002", Move.LOG_OUT, 105.0)
    assert await store.view.ready_agents() == {"1001": 104.0}
    # The hash and the set agree on every agent.
    assert (await store.agent("1001"))["idle_since"] == "104.0"


async def test_a_reservation_takes_the_agent_once(redis: Redis) -> None:
    store = fresh_store(redis)
    await make_ready(store, "1001", 100.0)
    await make_ready(store, "1002", 100.0)
    first = WaitingCall("c1", "billing", 110.0)
    second = WaitingCall("c2", "billing", 111.0)
    await store.join(first, "PJSIP/c1")
    await store.join(second, "PJSIP/c2")

    assert await store.reserve("1001", first, 120.0) is Reserved.YES
    assert await store.view.ready_agents() == {"1002": 100.0}
    assert (await store.agent("1001"))["state"] == "reserved"
    assert [c.call_id for c in await store.waiting("billing")] == ["c2"]

    # An agent already reserved is refused, and the other caller keeps waiting.
    assert await store.reserve("1001", second, 121.0) is Reserved.AGENT_NOT_READY
    assert [c.call_id for c in await store.waiting("billing")] == ["c2"]
    # A caller already offered is refused, and the other agent stays ready.
    assert await store.reserve("1002", first, 121.0) is Reserved.CALL_NOT_WAITING
    assert await store.view.ready_agents() == {"1002": 100.0}

    # Back to ready when the offer is withdrawn.
    await store.apply("1001", Move.CANCEL_OFFER, 130.0)
    assert await store.view.ready_agents() == {"1001": 130.0, "1002": 100.0}


async def test_two_instances_racing_for_one_agent(redis: Redis) -> None:
    prefix = f"ready-race-{time.time_ns()}:"
    one, two = RoutingStore(redis, prefix), RoutingStore(redis, prefix)
    await make_ready(one, "1001", 100.0)
    calls = [WaitingCall(f"c{i}", "billing", 110.0 + i) for i in range(2)]
    for call in calls:
        await one.join(call, f"PJSIP/{call.call_id}")
    outcomes = await asyncio.gather(one.reserve("1001", calls[0], 120.0),
                                    two.reserve("1001", calls[1], 120.0))
    assert sorted(o.value for o in outcomes) == [Reserved.AGENT_NOT_READY.value,
                                                 Reserved.YES.value]
    assert await one.view.ready_agents() == {}
    assert len(await one.waiting("billing")) == 1


async def test_free_agents_follow_another_instances_moves(redis: Redis) -> None:
    prefix = f"ready-view-{time.time_ns()}:"
    mine, theirs = RoutingStore(redis, prefix), RoutingStore(redis, prefix)
    agents = {"1001": agent({"billing": 5}), "1002": agent({"billing": 7, "english": 4}),
              "1003": agent({"english": 9})}
    # Made ready before the ready set existed: taken in at the first read.
    await redis.hset(mine.keys.agent("1003"), mapping={"state": "ready", "idle_since": 50.0})
    await make_ready(theirs, "1001", 100.0)
    await make_ready(theirs, "9999", 100.0)  # not in this version: never offered a call

    free = await mine.view.free_agents(agents)
    assert {a: free.get(a) is not None for a in agents} == {"1001": True, "1002": False,
                                                            "1003": True}
    assert "9999" not in free

    await make_ready(theirs, "1002", 101.0)
    await theirs.apply("1001", Move.GO_NOT_READY, 102.0)
    free = await mine.view.free_agents(agents)
    assert sorted(free.get(a).agent_id for a in agents if a in free) == ["1002", "1003"]  # type: ignore[union-attr]
    english = Queue(name="English", skills={"english": 5})
    assert [a.agent_id for a in free.candidates(english)] in (["1002", "1003"],
                                                              ["1003", "1002"])
    assert free.pick(english, 0.0).agent_id == "1003"  # type: ignore[union-attr]

    # The change stream lost (flushed, or this reader fell too far behind): a whole read.
    await redis.delete(mine.keys.ready_changes)
    await theirs.apply("1003", Move.GO_NOT_READY, 103.0)
    free = await mine.view.free_agents(agents)
    assert [a for a in agents if a in free] == ["1002"]
    # A new version of the agents: a whole read too, under the new skills.
    renewed = {**agents, "1002": agent({"english": 6})}
    free = await mine.view.free_agents(renewed)
    assert free.get("1002").skills == {"english": 6}  # type: ignore[union-attr]


async def test_waiting_callers_of_many_queues_in_one_round_trip(redis: Redis) -> None:
    store = fresh_store(redis)
    for i in range(30):
        await store.join(WaitingCall(f"w{i}", f"q{i % 3}", 100.0 + i, "gold", i % 2),
                         "PJSIP/x")
    await store.leave("w3", "q0")
    before = await _commands(redis)
    lines = await store.view.waiting_in(["q0", "q1", "q2", "empty"])
    after = await _commands(redis)
    # One script call (Redis counts the reads it makes inside), no read per caller.
    assert {name: after.get(name, 0) - before.get(name, 0)
            for name in ("evalsha", "hgetall")} == {"evalsha": 1, "hgetall": 0}
    assert [c.call_id for c in lines["q0"]] == [f"w{i}" for i in range(0, 30, 3) if i != 3]
    assert lines["q1"][0] == WaitingCall("w1", "q1", 101.0, "gold", 1)
    assert len(lines["q2"]) == 10 and lines["empty"] == []


async def _commands(redis: Redis) -> dict[str, int]:
    """The commands Redis ran to the end. An EVALSHA answered NOSCRIPT counts among its
    calls as well, and the session's Redis loses its scripts when a test restarts it:
    redis-py then loads the script and calls it again, one round trip the engine pays
    once per restart, not per call."""
    stats = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"):
            int(value["calls"]) - int(value.get("failed_calls", 0))
            for name, value in stats.items()}


class RecordingAmi:
    """Stands in for the AMI connection: records the actions, answers success."""

    def __init__(self) -> None:
        self.actions: list[dict[str, Any]] = []

    async def send_action(self, fields: dict[str, Any], **_: Any) -> None:
        self.actions.append(dict(fields))

    def start_action(self, fields: dict[str, Any], **_: Any) -> Awaitable[None]:
        self.actions.append(dict(fields))
        return asyncio.sleep(0)


def one_queue_hotline(agents: dict[str, Agent]) -> HotlineConfig:
    billing = Queue(name="Billing", skills={"billing": 5},
                    relax=[RelaxStep(after=60, min_proficiency=2)])
    vip = Vip(tiers={"gold": TierRule(priority=200, max_wait=40),
                     "normal": TierRule(priority=0, max_wait=300)})
    return HotlineConfig.model_construct(agents=agents, queues={"billing": billing}, vip=vip)


async def test_a_round_pairs_ready_agents_best_first(redis: Redis) -> None:
    store = fresh_store(redis)
    config = one_queue_hotline({"1001": agent({"billing": 9}), "1002": agent({"billing": 6}),
                                "1003": agent({"billing": 3}), "1004": agent({"billing": 10})})
    ami = RecordingAmi()
    queues = Queues(cast(AmiConnection, ami), store, lambda: config, lambda: 1000.0)
    for agent_id in ("1001", "1002", "1003"):  # 1004, the best, is not logged in
        await make_ready(store, agent_id, 900.0)
    await store.join(WaitingCall("old", "billing", 990.0), "PJSIP/old")
    await store.join(WaitingCall("vip", "billing", 999.0, "gold"), "PJSIP/vip")
    await store.join(WaitingCall("new", "billing", 999.5), "PJSIP/new")

    # The gold caller first, to the most proficient; then the longest waiting. Nobody
    # free has the 5 the newest caller needs.
    assert await queues.match_round() == 2
    assert await _redirects(ami, 2) == {"PJSIP/vip": "1001", "PJSIP/old": "1002"}
    assert [c.call_id for c in await store.waiting("billing")] == ["new"]
    assert await store.view.ready_agents() == {"1003": 900.0}
    assert await queues.match_round() == 0


async def test_an_agent_taken_elsewhere_is_skipped_for_the_next_best(
        redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    store = fresh_store(redis)
    config = one_queue_hotline({"1001": agent({"billing": 9}), "1002": agent({"billing": 6})})
    ami = RecordingAmi()
    queues = Queues(cast(AmiConnection, ami), store, lambda: config, lambda: 1000.0)
    for agent_id in config.agents:
        await make_ready(store, agent_id, 900.0)
    await store.join(WaitingCall("elsewhere", "billing", 950.0), "PJSIP/elsewhere")
    await store.join(WaitingCall("mine", "billing", 999.0, "gold"), "PJSIP/mine")
    seen = await store.view.free_agents(config.agents)

    # Another instance reserves 1001 after this round's read of the ready set.
    other = RoutingStore(redis, store.keys.base.removesuffix("{routing}"))
    assert await other.reserve("1001", WaitingCall("elsewhere", "billing", 950.0), 999.9) \
        is Reserved.YES

    async def as_read_before(*_: object) -> object:
        return seen, {"billing": await store.waiting("billing")}

    monkeypatch.setattr(store.view, "match_reads", as_read_before)
    assert await queues.match_round() == 1
    assert await _redirects(ami, 1) == {"PJSIP/mine": "1002"}
    assert "1001" not in seen and "1002" not in seen
    assert (await store.agent("1001"))["call"] == "elsewhere"


async def _redirects(ami: RecordingAmi, count: int) -> dict[str, str]:
    await until(lambda: ami.actions, 5, f"{count} redirect(s) sent",
                holds=lambda actions: sum(a["Action"] == "Redirect" for a in actions) >= count)
    agents = {a["Channel"]: a["Value"] for a in ami.actions
              if a.get("Variable") == "HOTLINE_AGENT_ID"}
    return agents


async def test_a_line_that_only_the_update_made_servable_is_read(redis: Redis) -> None:
    store = fresh_store(redis)
    other = RoutingStore(redis, store.keys.base.removesuffix("{routing}"))
    config = one_queue_hotline({"1001": agent({"billing": 9})})
    free, lines = await store.view.match_reads(config.agents, config.queues)
    assert not free and lines == {}  # nobody free: no line to serve

    await store.join(WaitingCall("c1", "billing", 100.0), "PJSIP/c1")
    await make_ready(other, "1001", 101.0)
    free, lines = await store.view.match_reads(config.agents, config.queues)
    assert "1001" in free and [c.call_id for c in lines["billing"]] == ["c1"]


async def test_a_round_visits_only_lines_that_may_have_callers(redis: Redis) -> None:
    store = fresh_store(redis)
    agents = {"1001": agent({"billing": 9, "faults": 9})}
    queues = {"billing": Queue(name="Billing", skills={"billing": 5}),
              "faults": Queue(name="Faults", skills={"faults": 5})}
    await make_ready(store, "1001", 100.0)

    async def indexed() -> set[str]:
        return {_text(k).rsplit(":", 1)[1] for k in await redis.smembers(store.keys.lines)}

    # The first round takes in every line (callers may wait from before the index),
    # finds them empty and takes them out again.
    free, lines = await store.view.match_reads(agents, queues)
    assert "1001" in free and lines == {"billing": [], "faults": []}
    assert await indexed() == set()
    call = WaitingCall("c1", "billing", 110.0)
    await store.join(call, "PJSIP/c1")
    assert await indexed() == {"billing"}
    _, lines = await store.view.match_reads(agents, queues)
    assert [c.call_id for c in lines["billing"]] == ["c1"] and lines["faults"] == []

    assert await store.reserve("1001", call, 120.0) is Reserved.YES
    await store.apply("1001", Move.CANCEL_OFFER, 121.0)
    _, lines = await store.view.match_reads(agents, queues)
    assert lines == {"billing": [], "faults": []} and await indexed() == set()
    # Back in line after a failed offer: the line is visited again.
    assert await store.requeue("c1", "billing")
    _, lines = await store.view.match_reads(agents, queues)
    assert [c.call_id for c in lines["billing"]] == ["c1"]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def test_a_rounds_pairs_are_reserved_in_one_script_call(redis: Redis) -> None:
    store = fresh_store(redis)
    config = one_queue_hotline({f"{1001 + i}": agent({"billing": 9 - i}) for i in range(3)})
    ami = RecordingAmi()
    queues = Queues(cast(AmiConnection, ami), store, lambda: config, lambda: 1000.0)
    for agent_id in config.agents:
        await make_ready(store, agent_id, 900.0)
    for i, name in enumerate(["first", "second", "third"]):
        await store.join(WaitingCall(name, "billing", 990.0 + i), f"PJSIP/{name}")
    await store.view.match_reads(config.agents, config.queues)  # the first, whole read

    before = await _commands(redis)
    assert await queues.match_round() == 3
    after = await _commands(redis)
    # The round's read and one reservation of all three pairs: two scripts, not four.
    assert after["evalsha"] - before["evalsha"] == 2
    assert await _redirects(ami, 3) == {"PJSIP/first": "1001", "PJSIP/second": "1002",
                                        "PJSIP/third": "1003"}


async def test_each_pair_of_a_batch_is_decided_on_its_own(redis: Redis) -> None:
    """More pairs than one script call takes, in one pipeline; the refused ones are
    refused where they stand, and the rest reserved."""
    store = fresh_store(redis)
    pairs = [(f"a{i}", WaitingCall(f"c{i}", "billing", 100.0)) for i in range(250)]
    for agent_id, call in pairs:
        await make_ready(store, agent_id, 90.0)
        await store.join(call, f"PJSIP/{call.call_id}")
    await store.apply("a7", Move.GO_NOT_READY, 95.0)  # went on a break
    await store.leave("c150", "billing")  # hung up
    outcomes = await store.reserve_pairs(pairs, 120.0)
    assert [i for i, o in enumerate(outcomes) if o is not Reserved.YES] == [7, 150]
    assert (outcomes[7], outcomes[150]) == (Reserved.AGENT_NOT_READY,
                                            Reserved.CALL_NOT_WAITING)
    assert await store.view.ready_agents() == {"a150": 90.0}
    assert [c.call_id for c in await store.waiting("billing")] == ["c7"]
    assert (await store.agent("a249"))["call"] == "c249"


async def test_the_express_lane_reserves_at_the_join_only_when_nobody_else_waits(
        redis: Redis) -> None:
    store = fresh_store(redis)
    await make_ready(store, "1001", 100.0)
    await make_ready(store, "1002", 100.0)
    first = WaitingCall("c1", "billing", 110.0)
    assert await store.join(first, "PJSIP/c1", "13800000001", "main", "1001", 110.0) \
        == Joined(Reserved.YES, 1)
    assert (await store.agent("1001"))["call"] == "c1"
    assert (await store.call("c1"))["state"] == "offered"
    assert await store.waiting("billing") == []
    assert await store.view.ready_agents() == {"1002": 100.0}

    # Someone waits in another line: the matcher orders them all, no express pair.
    await store.join(WaitingCall("c2", "faults", 111.0), "PJSIP/c2")
    third = WaitingCall("c3", "billing", 112.0)
    assert await store.join(third, "PJSIP/c3", agent_id="1002", now=112.0) \
        == Joined(None, 1)  # the first in its own line
    assert [c.call_id for c in await store.waiting("billing")] == ["c3"]
    assert await store.view.ready_agents() == {"1002": 100.0}

    # One waits in the same line: the newcomer's place is behind them.
    await store.leave("c2", "faults")
    await store.leave("c3", "billing")
    await store.apply("1002", Move.GO_NOT_READY, 113.0)
    await store.join(WaitingCall("c5", "billing", 113.5), "PJSIP/c5")  # no agent named
    assert await store.join(WaitingCall("c4", "billing", 114.0), "PJSIP/c4",
                            agent_id="1002", now=114.0) == Joined(None, 2)
    # The agent named went on a break meanwhile: the caller waits all the same.
    await store.leave("c5", "billing")
    await store.leave("c4", "billing")
    assert await store.join(WaitingCall("c6", "billing", 115.0), "PJSIP/c6",
                            agent_id="1002", now=115.0) == Joined(Reserved.AGENT_NOT_READY, 1)
    assert [c.call_id for c in await store.waiting("billing")] == ["c6"]


async def test_a_caller_joining_with_a_free_agent_is_rung_without_a_round(
        redis: Redis) -> None:
    store = fresh_store(redis)
    config = one_queue_hotline({"1001": agent({"billing": 9}), "1002": agent({"billing": 6})})
    ami = RecordingAmi()
    queues = Queues(cast(AmiConnection, ami), store, lambda: config, lambda: 1000.0)
    for agent_id in config.agents:
        await make_ready(store, agent_id, 900.0)
    await queues.match_round()  # the matcher's first read: who is free
    queues.matcher.here["c1"] = {"channel": "PJSIP/c1", "number": "", "menu_path": ""}
    before = await _commands(redis)
    joined = await queues.matcher.join(config, WaitingCall("c1", "billing", 1000.0),
                                       "PJSIP/c1", "", None)
    assert joined.reserved is Reserved.YES
    # Rung in the same step: the Redirect was written before join returned.
    assert [a["Channel"] for a in ami.actions if a["Action"] == "Redirect"] == ["PJSIP/c1"]
    assert (await _commands(redis))["evalsha"] - before["evalsha"] == 1
    assert await _redirects(ami, 1) == {"PJSIP/c1": "1001"}  # the best of the two

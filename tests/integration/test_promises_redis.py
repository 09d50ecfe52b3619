"""The promises kept by Redis scripts, on a real redis-server: an agent who is not ready
is never given a call, a caller no longer waiting is never offered, a voucher credits
once; and one matching round, from Redis to the AMI wire, rings the reserved agent.

The AMI connection is a stand-in that writes down the wire (no Asterisk).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import pytest
from redis.asyncio import Redis

from agents.state import AgentState, Move
from hotline.billing.redis_store import RedisBilling
from hotline.queues.service import Queues
from hotline.queues.waiting import WaitEnd
from ivr.menu import Caller, MenuServices, Prompts, run_menu
from routing.decide import WaitingCall
from routing.store import Reserved, RoutingStore
from tests.doubles import (
    PROMPTS,
    VOUCHER,
    VOUCHER_FEN,
    VOUCHER_PIN,
    FixedConfig,
    ScriptedLine,
    WireAmi,
    a_call,
    hotline_config,
    rung_agent,
    screen_pop,
    until,
)

pytestmark = pytest.mark.redis

NOW = 1_800_000_000.0
MONDAY = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
CONFIG = hotline_config()
ENDPOINTS = {agent_id: agent.endpoint for agent_id, agent in CONFIG.agents.items()}
NUMBER = "13800000001"
_prefixes = itertools.count(1)


def prefix(room: str) -> str:
    return f"promises-{os.getpid()}-{next(_prefixes)}-{room}:"


@pytest.fixture
def routing(redis: Redis) -> RoutingStore:
    return RoutingStore(redis, prefix("routing"))


@pytest.fixture
def billing(redis: Redis) -> RedisBilling:
    return RedisBilling(redis, prefix("billing"), b"test-key", pin_attempts=3,
                        lock_seconds=60)


async def agent_moves(store: RoutingStore, agent_id: str, *moves: Move) -> None:
    for what in moves:
        await store.apply(agent_id, what, NOW - 60)


async def caller_waits(store: RoutingStore, call_id: str) -> WaitingCall:
    call = WaitingCall(call_id, "billing", NOW - 20, "gold", 0)
    await store.join(call, a_call(call_id).channel, NUMBER, "main > choose > agent")
    return call


READY = (Move.LOG_IN, Move.GO_READY)


# --- b. the reservation script --------------------------------------------------------


@pytest.mark.parametrize(("moves", "state"), [
    pytest.param((), AgentState.LOGGED_OUT, id="logged out"),
    pytest.param((Move.LOG_IN,), AgentState.NOT_READY, id="logged in, not ready yet"),
    pytest.param((*READY, Move.GO_NOT_READY), AgentState.NOT_READY, id="on a break"),
    pytest.param((*READY, Move.RESERVE), AgentState.RESERVED, id="reserved for another"),
    pytest.param((*READY, Move.RESERVE, Move.ANSWER), AgentState.ON_CALL, id="on a call"),
    pytest.param((*READY, Move.RESERVE, Move.ANSWER, Move.CALL_ENDED), AgentState.WRAP_UP,
                 id="wrapping up"),
])
async def test_an_agent_who_is_not_ready_is_never_reserved(
        routing: RoutingStore, moves: tuple[Move, ...], state: AgentState) -> None:
    await agent_moves(routing, "1001", *moves)
    call = await caller_waits(routing, "c-1")
    assert await routing.reserve("1001", call, NOW) is Reserved.AGENT_NOT_READY
    assert await routing.agent_state("1001") is state
    assert (await routing.agent("1001")).get("call") is None
    fields = await routing.call("c-1")
    assert fields["state"] == "waiting" and "agent" not in fields
    assert [c.call_id for c in await routing.waiting("billing")] == ["c-1"]


@pytest.mark.parametrize("how", ["hung up", "offered to another agent"])
async def test_a_caller_no_longer_waiting_is_not_offered(routing: RoutingStore,
                                                         how: str) -> None:
    await agent_moves(routing, "1001", *READY)
    await agent_moves(routing, "1002", *READY)
    call = await caller_waits(routing, "c-2")
    if how == "hung up":
        await routing.leave("c-2", "billing")
    else:
        assert await routing.reserve("1002", call, NOW) is Reserved.YES
    assert await routing.reserve("1001", call, NOW) is Reserved.CALL_NOT_WAITING
    assert await routing.agent_state("1001") is AgentState.READY  # free for the next caller
    assert (await routing.agent("1001")).get("call") is None
    assert (await routing.call("c-2")).get("agent") == (None if how == "hung up" else "1002")


async def test_one_agent_wanted_for_many_callers_at_once_takes_one(
        routing: RoutingStore) -> None:
    await agent_moves(routing, "1001", *READY)
    calls = [await caller_waits(routing, f"c-many-{n}") for n in range(10)]
    outcomes = await asyncio.gather(*(routing.reserve("1001", c, NOW) for c in calls))
    assert outcomes.count(Reserved.YES) == 1
    taken = calls[outcomes.index(Reserved.YES)].call_id
    agent = await routing.agent("1001")
    assert (agent["state"], agent["call"]) == ("reserved", taken)
    assert (await routing.call(taken))["state"] == "offered"
    still = sorted(c.call_id for c in await routing.waiting("billing"))
    assert still == sorted(c.call_id for c in calls if c.call_id != taken)


class Meanwhile(RoutingStore):
    """Something happens between the matcher's choice and its reservation."""

    def __init__(self, redis: Redis, prefix: str, event: str) -> None:
        super().__init__(redis, prefix)
        self.event = event

    async def reserve_pairs(self, pairs: Sequence[tuple[str, WaitingCall]],
                            now: float) -> list[Reserved]:
        for agent_id, call in pairs:
            if self.event == "the agent goes on a break":
                await self.apply(agent_id, Move.GO_NOT_READY, now, reason="break")
            else:
                await self.leave(call.call_id, call.queue)
        return await super().reserve_pairs(pairs, now)


@pytest.fixture
def ami() -> WireAmi:
    return WireAmi()


async def started(ami: WireAmi, store: RoutingStore) -> Queues:
    return Queues(cast(Any, ami), store, lambda: CONFIG, lambda: NOW,
                  dial_strings_set=lambda: True)


@pytest.mark.parametrize(("event", "agent_after"), [
    ("the agent goes on a break", AgentState.NOT_READY),
    ("the caller hangs up", AgentState.READY)])
async def test_nobody_is_rung_when_the_pair_falls_apart_before_the_reservation(
        redis: Redis, ami: WireAmi, event: str, agent_after: AgentState) -> None:
    store = Meanwhile(redis, prefix("routing"), event)
    await agent_moves(store, "1001", *READY)
    await caller_waits(store, "c-3")
    queues = await started(ami, store)
    try:
        assert await queues.match_round() == 0, "a pair was made all the same"
        await asyncio.sleep(0.02)
        assert ami.sent("Redirect") == [], f"rung anyway: {ami.wire}"
        assert await store.agent_state("1001") is agent_after
        assert (await store.agent("1001")).get("call") is None
    finally:
        await queues.stop()


# --- e. one matching round, Redis to the wire ------------------------------------------


@pytest.fixture
async def queues(ami: WireAmi, routing: RoutingStore) -> AsyncIterator[Queues]:
    queues = await started(ami, routing)
    yield queues
    await queues.stop()


async def test_one_round_rings_the_ready_agent_for_the_waiting_caller(
        queues: Queues, ami: WireAmi, routing: RoutingStore) -> None:
    await agent_moves(routing, "1001", *READY)
    await agent_moves(routing, "1002", Move.LOG_IN)  # logged in, not ready
    await caller_waits(routing, "c-4")
    channel = a_call("c-4").channel
    assert await queues.match_round() == 1
    await until(lambda: rung_agent(ami.wire, channel, ENDPOINTS) is not None,
                f"a Redirect of {channel}; the wire: {ami.wire}")
    assert rung_agent(ami.wire, channel, ENDPOINTS) == "1001"
    agent = await routing.agent("1001")
    assert (agent["state"], agent["call"]) == ("reserved", "c-4")
    fields = await routing.call("c-4")
    assert (fields["state"], fields["agent"]) == ("offered", "1001")
    assert await routing.agent_state("1002") is AgentState.NOT_READY
    await until(lambda: "HOTLINE_MENU_PATH" in screen_pop(ami.wire, channel), "screen pop")
    pop = screen_pop(ami.wire, channel)
    assert (pop["HOTLINE_CALLER_NUMBER"], pop["HOTLINE_VIP_TIER"], pop["HOTLINE_QUEUE"],
            pop["HOTLINE_AGENT_ID"], pop["HOTLINE_MENU_PATH"]) == (
        NUMBER, "gold", "billing", "1001", "main > choose > agent")


async def test_a_caller_holding_on_this_engine_is_rung_within_the_round(
        queues: Queues, ami: WireAmi, routing: RoutingStore) -> None:
    await agent_moves(routing, "1002", *READY)
    line = ScriptedLine(a_call("c-5", NUMBER))
    ami.carry(line)
    waiting = asyncio.ensure_future(queues.waiting.wait(line, "billing", tier="normal",
                                                        boost=0, menu_path="main"))
    await until(lambda: bool(line.events), "the caller on hold")
    assert await queues.match_round() == 1
    # On the wire by the time the round returns.
    assert rung_agent(ami.wire, line.call.channel, ENDPOINTS) == "1002"
    outcome = await asyncio.wait_for(waiting, 2)
    assert outcome.end is WaitEnd.CONNECTING
    assert (await routing.agent("1002"))["call"] == "c-5"


# --- c. the voucher script --------------------------------------------------------------


async def test_a_voucher_credits_once_then_says_used(billing: RedisBilling) -> None:
    await billing.issue_voucher(VOUCHER, VOUCHER_PIN, VOUCHER_FEN)
    await billing.open_account(NUMBER, 1000)
    await billing.open_account("13900000002", 0)
    first = await billing.redeem(NUMBER, VOUCHER, VOUCHER_PIN, "r-1")
    again = await billing.redeem(NUMBER, VOUCHER, VOUCHER_PIN, "r-2")
    other = await billing.redeem("13900000002", VOUCHER, VOUCHER_PIN, "r-3")
    assert (first.outcome, first.new_balance_fen) == ("credited", 1000 + VOUCHER_FEN)
    assert (again.outcome, other.outcome) == ("used", "used")
    assert (await billing.account(NUMBER)).balance_fen == 1000 + VOUCHER_FEN  # type: ignore[union-attr]
    assert (await billing.account("13900000002")).balance_fen == 0  # type: ignore[union-attr]
    ledger = await billing.ledger()
    assert [(e["account"], e["credited_fen"]) for e in ledger] == [(NUMBER, VOUCHER_FEN)]


async def test_a_retried_request_gets_its_first_answer_and_no_second_credit(
        billing: RedisBilling) -> None:
    await billing.issue_voucher(VOUCHER, VOUCHER_PIN, VOUCHER_FEN)
    await billing.open_account(NUMBER, 1000)
    first = await billing.redeem(NUMBER, VOUCHER, VOUCHER_PIN, "call-1:0")
    await billing.redeem(NUMBER, VOUCHER, VOUCHER_PIN, "call-2:0")  # another call: used
    retry = await billing.redeem(NUMBER, VOUCHER, VOUCHER_PIN, "call-1:0")
    assert retry == first and first.outcome == "credited"
    assert (await billing.account(NUMBER)).balance_fen == 1000 + VOUCHER_FEN  # type: ignore[union-attr]
    assert len(await billing.ledger()) == 1


async def test_redemptions_at_the_same_moment_credit_once(billing: RedisBilling) -> None:
    await billing.issue_voucher(VOUCHER, VOUCHER_PIN, VOUCHER_FEN)
    numbers = [f"1370000{n:04d}" for n in range(20)]
    for number in numbers:
        await billing.open_account(number, 0)
    results = await asyncio.gather(*(billing.redeem(n, VOUCHER, VOUCHER_PIN, f"at-{n}")
                                     for n in numbers))
    assert sorted(r.outcome for r in results) == ["credited"] + ["used"] * 19
    balances = [(await billing.account(n)).balance_fen for n in numbers]  # type: ignore[union-attr]
    assert sum(balances) == VOUCHER_FEN
    assert len(await billing.ledger()) == 1


async def test_a_caller_who_tops_up_twice_with_one_voucher_hears_it_refused(
        billing: RedisBilling) -> None:
    await billing.issue_voucher(VOUCHER, VOUCHER_PIN, VOUCHER_FEN)
    await billing.open_account(NUMBER, 1000)
    heard: list[list[str]] = []
    for call_id in ("c-top-1", "c-top-2"):
        line = ScriptedLine(a_call(call_id, NUMBER), ["1", VOUCHER, VOUCHER_PIN])
        services = MenuServices(Prompts(PROMPTS), lambda: MONDAY, billing)
        await run_menu(line, FixedConfig(CONFIG), "main", Caller(language="en"), services)
        heard.append(line.heard[4:])
    assert heard[0][0] == "en/top_up_done"
    assert heard[1] == ["en/voucher_refused", "en/bye"]
    assert (await billing.account(NUMBER)).balance_fen == 1000 + VOUCHER_FEN  # type: ignore[union-attr]
    assert len(await billing.ledger()) == 1

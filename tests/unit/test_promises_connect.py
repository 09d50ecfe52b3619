"""What an agent and a caller notice once the matcher has paired them: the agent's phone
rings for that caller (the caller's channel is moved to `hotline-connect` and the
dialplan dials the agent), and the agent's screen pops the caller's details (channel
variables on the caller's channel).

Pure: the AMI connection is a stand-in that writes down the wire, and the routing store
an in-memory one that keeps the store's promises (an agent is reserved only while
ready, a caller offered only while waiting).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Literal, cast

import pytest

from config.model import HotlineConfig, Recording
from config.queues import Agent, Queue
from hotline.queues.service import Queues
from hotline.queues.waiting import WaitEnd
from routing.decide import FreeAgents, WaitingCall
from routing.store import Joined, Reserved
from tests.doubles import (
    ScriptedLine,
    WireAmi,
    a_call,
    hotline_config,
    rung_agent,
    screen_pop,
    until,
)

NOW = 1_800_000_000.0
CONFIG = hotline_config()
ENDPOINTS = {agent_id: agent.endpoint for agent_id, agent in CONFIG.agents.items()}
MENU_PATH = "main > choose > agent"


class MemoryRouting:
    """Waiting callers and agent states in memory, as the routing store keeps them."""

    def __init__(self) -> None:
        self.agents: dict[str, dict[str, str]] = {}
        self.calls: dict[str, dict[str, str]] = {}
        self.view = self  # the matcher's reads, wherever the store keeps them

    def ready(self, *agent_ids: str) -> None:
        for agent_id in agent_ids:
            self.agents[agent_id] = {"state": "ready", "idle_since": str(NOW - 60)}

    async def join(self, call: WaitingCall, channel: str, number: str = "",
                   menu_path: str | None = None, agent_id: str = "",
                   now: float = 0.0) -> Joined:
        self.calls[call.call_id] = {
            "queue": call.queue, "arrived_at": str(call.arrived_at), "tier": call.tier,
            "boost": str(call.boost), "channel": channel, "state": "waiting",
            "number": number, "menu_path": menu_path or ""}
        alone = not any(f["state"] == "waiting" for c, f in self.calls.items()
                        if c != call.call_id)
        if agent_id and alone:
            return Joined(await self.reserve(agent_id, call, now), 1)
        return Joined(None,
                      sum(f["state"] == "waiting" and f["queue"] == call.queue
                          for f in self.calls.values()))

    def known_free(self, agents: Mapping[str, Agent]) -> FreeAgents | None:
        return None  # no express lane here: every pair is the matcher's round

    async def call(self, call_id: str) -> dict[str, str]:
        return dict(self.calls.get(call_id, {}))

    async def leave(self, call_id: str, queue: str) -> None:
        self.calls[call_id]["state"] = "gone"

    async def next_callback(self, call_id: str) -> int:
        placed = int(self.calls[call_id].get("callbacks_placed", 0)) + 1
        self.calls[call_id]["callbacks_placed"] = str(placed)
        return placed

    async def callback_placed(self, call_id: str, recording: str) -> None:
        self.calls[call_id]["callback_recording"] = recording

    async def waiting_count(self, queue: str) -> int:
        return len(self._waiting(queue))

    def _waiting(self, queue: str) -> list[WaitingCall]:
        return [WaitingCall(call_id, f["queue"], float(f["arrived_at"]), f["tier"],
                            int(f["boost"]))
                for call_id, f in self.calls.items()
                if f["queue"] == queue and f["state"] == "waiting"]

    async def match_reads(self, agents: Mapping[str, Agent], queues: Mapping[str, Queue]
                          ) -> tuple[FreeAgents, dict[str, list[WaitingCall]]]:
        free = FreeAgents(agents)
        for agent_id, fields in self.agents.items():
            if fields["state"] == "ready":
                free.add(agent_id, float(fields["idle_since"]))
        return free, {queue: self._waiting(queue) for queue in queues}

    async def reserve(self, agent_id: str, call: WaitingCall, now: float) -> Reserved:
        agent, waiting = self.agents.get(agent_id, {}), self.calls.get(call.call_id, {})
        if agent.get("state") != "ready":
            return Reserved.AGENT_NOT_READY
        if waiting.get("state") != "waiting":
            return Reserved.CALL_NOT_WAITING
        agent.update(state="reserved", call=call.call_id)
        waiting.update(state="offered", agent=agent_id)
        return Reserved.YES

    async def reserve_pairs(self, pairs: Sequence[tuple[str, WaitingCall]],
                            now: float) -> list[Reserved]:
        return [await self.reserve(agent_id, call, now) for agent_id, call in pairs]


@pytest.fixture
def ami() -> WireAmi:
    return WireAmi()


@pytest.fixture
def store() -> MemoryRouting:
    return MemoryRouting()


async def queues_for(ami: WireAmi, store: MemoryRouting, dial_strings_set: bool = True,
                     config: HotlineConfig = CONFIG) -> Queues:
    return Queues(cast(Any, ami), cast(Any, store), lambda: config, lambda: NOW,
                  dial_strings_set=lambda: dial_strings_set)


@pytest.fixture(params=[True, False], ids=["dial strings in Asterisk", "dial string set"])
async def queues(request: pytest.FixtureRequest, ami: WireAmi,
                 store: MemoryRouting) -> AsyncIterator[Queues]:
    queues = await queues_for(ami, store, dial_strings_set=request.param)
    yield queues
    await queues.stop()


def waiting_call(call_id: str, tier: str = "gold") -> WaitingCall:
    return WaitingCall(call_id, "billing", NOW - 20, tier, 0)


def fields_of(call_id: str) -> dict[str, str]:
    return {"channel": a_call(call_id).channel, "number": "13800000001",
            "menu_path": MENU_PATH}


EXPECTED_POP = {"HOTLINE_CALLER_NUMBER": "13800000001", "HOTLINE_VIP_TIER": "gold",
                "HOTLINE_QUEUE": "billing", "HOTLINE_AGENT_ID": "1001",
                "HOTLINE_MENU_PATH": MENU_PATH}


# --- e. the agent's phone rings ------------------------------------------------------


async def test_the_agent_s_phone_rings_the_moment_the_reservation_returns(
        queues: Queues, ami: WireAmi) -> None:
    call = waiting_call("c-ring")
    queues.connector.ring_now(CONFIG, call, "1001", fields_of(call.call_id))
    # No await yet: the caller's move to the agent's phone is already on the wire.
    channel = a_call(call.call_id).channel
    assert rung_agent(ami.wire, channel, ENDPOINTS) == "1001", f"not rung: {ami.wire}"
    redirects = ami.sent("Redirect")
    assert [r["Channel"] for r in redirects] == [channel]
    assert redirects[0]["Context"] == "hotline-connect"
    # The agent's phone rings for the queue's ring time (12 s).
    ring = redirects[0]["Exten"].split("-")[0] if redirects[0]["Exten"] != "s" else \
        screen_pop(ami.wire, channel)["HOTLINE_RING_TIMEOUT"]
    assert ring == "12"


# --- f. the agent's screen pop -------------------------------------------------------


async def test_the_agent_s_screen_shows_who_is_calling_and_from_where(
        queues: Queues, ami: WireAmi) -> None:
    call = waiting_call("c-pop")
    channel = a_call(call.call_id).channel
    queues.connector.ring_now(CONFIG, call, "1001", fields_of(call.call_id))
    await until(lambda: EXPECTED_POP.keys() <= screen_pop(ami.wire, channel).keys(),
                f"the screen pop's details on {channel}; the wire: {ami.wire}")
    pop = screen_pop(ami.wire, channel)
    assert {name: pop[name] for name in EXPECTED_POP} == EXPECTED_POP
    # Nothing about this caller is set on another channel.
    others = [a for a in ami.sent("Setvar") if a["Channel"] != channel]
    assert others == []


async def test_with_the_dial_string_on_the_channel_it_is_set_before_the_ring(
        ami: WireAmi, store: MemoryRouting) -> None:
    queues = await queues_for(ami, store, dial_strings_set=False)
    try:
        call = waiting_call("c-slow")
        channel = a_call(call.call_id).channel
        queues.connector.ring_now(CONFIG, call, "1001", fields_of(call.call_id))
        names = [a.get("Variable", a["Action"]) for a in ami.wire]
        redirect = names.index("Redirect")
        # The dialplan reads them when it dials: all of them precede the move.
        assert set(EXPECTED_POP) | {"HOTLINE_AGENT_DIAL"} <= set(names[:redirect])
        assert screen_pop(ami.wire, channel)["HOTLINE_AGENT_DIAL"] == "PJSIP/agent-1001"
    finally:
        await queues.stop()


# --- e + f. one matching round -------------------------------------------------------


async def test_a_round_rings_the_best_agent_for_a_caller_waiting_on_this_engine(
        queues: Queues, ami: WireAmi, store: MemoryRouting) -> None:
    store.ready("1001", "1002")
    line = ScriptedLine(a_call("c-here"))
    ami.carry(line)
    waiting = asyncio.ensure_future(queues.waiting.wait(line, "billing", tier="gold", boost=0,
                                                menu_path=MENU_PATH))
    await until(lambda: "c-here" in store.calls, "the caller in line")
    assert await queues.match_round() == 1
    # The best fit for billing (proficiency 9 over 7) gets the call.
    assert rung_agent(ami.wire, line.call.channel, ENDPOINTS) == "1002"
    outcome = await asyncio.wait_for(waiting, 2)
    assert outcome.end is WaitEnd.CONNECTING
    await until(lambda: "HOTLINE_AGENT_ID" in screen_pop(ami.wire, line.call.channel),
                "the screen pop")
    assert screen_pop(ami.wire, line.call.channel)["HOTLINE_AGENT_ID"] == "1002"
    assert store.agents["1001"]["state"] == "ready"  # the other agent stays free


async def test_a_round_rings_the_agent_for_a_caller_waiting_on_another_engine(
        queues: Queues, ami: WireAmi, store: MemoryRouting) -> None:
    store.ready("1001")
    call = waiting_call("c-there")
    channel = a_call(call.call_id).channel
    await store.join(call, channel, "13800000001", MENU_PATH)
    assert await queues.match_round() == 1
    await until(lambda: rung_agent(ami.wire, channel, ENDPOINTS) is not None,
                f"a Redirect of {channel}; the wire: {ami.wire}")
    assert rung_agent(ami.wire, channel, ENDPOINTS) == "1001"
    await until(lambda: EXPECTED_POP.keys() <= screen_pop(ami.wire, channel).keys(),
                "the screen pop")
    pop = screen_pop(ami.wire, channel)
    assert {name: pop[name] for name in EXPECTED_POP} == EXPECTED_POP


async def test_a_round_with_no_ready_agent_rings_nobody(
        queues: Queues, ami: WireAmi, store: MemoryRouting) -> None:
    store.agents["1001"] = {"state": "not_ready", "idle_since": str(NOW)}
    call = waiting_call("c-alone")
    await store.join(call, a_call(call.call_id).channel, "13800000001", MENU_PATH)
    assert await queues.match_round() == 0
    await asyncio.sleep(0.01)
    assert ami.sent("Redirect") == []
    assert store.calls["c-alone"]["state"] == "waiting"


class _Moments:
    """The stats' per-call moments, noting how much was on the wire when each came."""

    def __init__(self, ami: WireAmi) -> None:
        self.ami = ami
        self.marked: list[tuple[str, float, int]] = []

    async def mark(self, call_id: str, **moments: float) -> None:
        for name, at in moments.items():
            self.marked.append((name, at, len(self.ami.wire)))


async def test_the_ring_is_timed_from_the_move_not_from_the_screen_pop(
        ami: WireAmi, store: MemoryRouting) -> None:
    moments = _Moments(ami)
    queues = Queues(cast(Any, ami), cast(Any, store), lambda: CONFIG, lambda: NOW,
                    stats=cast(Any, moments), dial_strings_set=lambda: True)
    try:
        call = waiting_call("c-timed")
        queues.connector.ring_now(CONFIG, call, "1001", fields_of(call.call_id))
        await until(lambda: moments.marked, "the ring's start is stored")
        # Stored once the Redirect is taken, before the Setvars that follow it: an agent
        # quick to answer finds it (CONNECT's ring time is answered minus rang).
        assert moments.marked == [("rang", NOW, 1)]
    finally:
        await queues.stop()


# --- g. a customer called back is recorded like any caller ---------------------------


@pytest.mark.parametrize(("fmt", "enabled", "recorded", "options"), [
    ("mixed", True, "c-back-callback-2.wav", ""),
    ("stereo", True, "c-back-callback-2.wav", "r(BASE-said.wav)t(BASE-heard.wav)"),
    ("mixed", False, "", "")], ids=["mixed", "stereo", "not recorded"])
async def test_a_customer_called_back_is_recorded_from_the_moment_they_answer(
        ami: WireAmi, store: MemoryRouting, fmt: Literal["mixed", "stereo"], enabled: bool,
        recorded: str, options: str) -> None:
    config = CONFIG.model_copy(update={"recording": Recording(enabled=enabled, format=fmt)})
    queues = Queues(cast(Any, ami), cast(Any, store), lambda: config, lambda: NOW,
                    recordings_dir="/spool/rec")
    try:
        call = waiting_call("c-back")
        await store.join(call, "", "13800000001", MENU_PATH)
        # The caller hung up to be called back, and missed one callback already.
        store.calls[call.call_id].update(callback="13800000001", callbacks_placed="1",
                                         callback_tries="1", state="offered", agent="1001")
        await queues.connector.connect(config, call, "1001")
        originate, = ami.sent("Originate")
        # The dialplan context that records the leg, then rings the agent.
        assert (originate["Context"], originate["ChannelId"]) == ("hotline-callback", "c-back")
        variables = dict(v.split("=", 1) for v in originate["Variable"].split(","))
        day = dt.datetime.fromtimestamp(NOW, dt.UTC).date().isoformat()
        path = f"/spool/rec/{day}/{recorded}" if recorded else ""
        # Stereo: each side to a file of its own beside the mixed one.
        assert (variables["HOTLINE_RECORDING"], variables["HOTLINE_RECORDING_OPTIONS"]) == (
            path, options.replace("BASE", path.removesuffix(".wav")))
        # Whichever engine hears the answer knows which file to expect.
        assert store.calls["c-back"]["callback_recording"] == path
    finally:
        await queues.stop()

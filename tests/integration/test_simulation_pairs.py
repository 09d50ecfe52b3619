"""One policy, two clocks: for the same floor (waiting callers, free agents, time), the
engine's matching round over Redis and the simulator's round pick the same pairs."""

from __future__ import annotations

import random
from typing import cast

import pytest
from redis.asyncio import Redis

from config.model import HotlineConfig
from config.queues import Agent, Queue, RelaxStep, TierRule, Vip
from hotline.queues.service import Queues
from pbx.ami import AmiConnection
from routing.decide import FreeAgents, WaitingCall
from routing.simulation import round_pairs
from tests.integration.test_ready_set import RecordingAmi, _redirects, fresh_store, make_ready

pytestmark = [pytest.mark.redis]

NOW = 10_000.0


def floor(seed: int) -> tuple[HotlineConfig, dict[str, float], list[WaitingCall]]:
    """Three queues (one relaxing, one by longest idle), two tiers, 14 agents with
    random skills and idle times, 24 callers who arrived at random."""
    rng = random.Random(seed)
    skills = ["billing", "fault", "general"]
    agents = {f"{1001 + n}": Agent(name=f"A{n}", endpoint=f"PJSIP/a{n}", skills={
        s: rng.randint(1, 10) for s in rng.sample(skills, rng.randint(1, 3))})
        for n in range(14)}
    queues = {
        "billing": Queue(name="Billing", skills={"billing": 6},
                         relax=[RelaxStep(after=60, min_proficiency=2)]),
        "fault": Queue(name="Fault", skills={"fault": 4}, strategy="longest_idle"),
        "general": Queue(name="General", skills={"general": 3, "billing": 2}),
    }
    vip = Vip(aging=1.0, tiers={"gold": TierRule(priority=200, max_wait=40),
                                "normal": TierRule(priority=0, max_wait=300)})
    config = HotlineConfig.model_construct(agents=agents, queues=queues, vip=vip)
    idle = {agent_id: NOW - rng.uniform(1, 600) for agent_id in rng.sample(sorted(agents), 9)}
    callers = [WaitingCall(f"c{n}", rng.choice(sorted(queues)), NOW - rng.uniform(0, 400),
                           "gold" if rng.random() < 0.2 else "normal") for n in range(24)]
    return config, idle, callers


@pytest.mark.parametrize("seed", range(5))
async def test_the_engine_and_the_simulator_pick_the_same_pairs(redis: Redis,
                                                                 seed: int) -> None:
    config, idle, callers = floor(seed)
    store = fresh_store(redis)
    ami = RecordingAmi()
    queues = Queues(cast(AmiConnection, ami), store, lambda: config, lambda: NOW)
    for agent_id, since in idle.items():
        await make_ready(store, agent_id, since)
    for call in callers:
        await store.join(call, f"PJSIP/{call.call_id}")
    made = await queues.match_round()
    engine = await _redirects(ami, made)

    free = FreeAgents(config.agents)
    for agent_id, since in idle.items():
        free.add(agent_id, since)
    simulated = {f"PJSIP/{call.call_id}": agent.agent_id
                 for agent, call in round_pairs(callers, free, config, NOW)}
    assert made > 0 and engine == simulated

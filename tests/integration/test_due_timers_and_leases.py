"""Timers and leases on a real redis-server: a due timer runs once across engines and
again after the engine that took it died; a lapsed lease is seen by its peers."""

from __future__ import annotations

import asyncio
import subprocess
import time

import pytest
from redis.asyncio import Redis

from hotline.runtime import due_timers
from hotline.runtime.due_timers import RETRY_AFTER_MS, DueTimers
from hotline.runtime.lease import LEASE_MS, EngineLease
from hotline.runtime.supervisor import Supervisor

pytestmark = pytest.mark.redis


async def test_a_due_timer_runs_exactly_once_across_two_engines(redis: Redis) -> None:
    now = [1000.0]
    ran: list[tuple[str, str]] = []
    engines = [DueTimers(redis, "timers-once:", lambda: now[0], Supervisor()) for _ in "ab"]
    for name, timers in zip("ab", engines, strict=True):
        async def handler(argument: str, name: str = name) -> None:
            ran.append((name, argument))
        timers.on("wrap_up_ends", handler)
    await engines[0].at("wrap_up_ends", "1001|call-1", 1005.0)
    assert await engines[1].run_due() == 0  # not due yet
    now[0] = 1005.0
    await asyncio.gather(*(timers.run_due() for timers in engines))
    assert [argument for _, argument in ran] == ["1001|call-1"]
    assert await engines[0].pending() == {}


async def test_an_engine_runs_its_own_timer_when_due_not_at_its_next_look(
        redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    # Looks far apart: the timer runs on time only if setting it woke the engine.
    monkeypatch.setattr(due_timers, "LOOK_EVERY", 60.0)
    supervisor = Supervisor()
    timers = DueTimers(redis, "timers-wake:", time.time, supervisor)
    ran = asyncio.Event()

    async def handler(argument: str) -> None:
        ran.set()
    timers.on("wrap_up_ends", handler)
    timers.start()
    try:
        await asyncio.sleep(0.2)  # its first look found nothing: the next is a minute away
        await timers.at("wrap_up_ends", "1001|call-1", time.time() + 0.3)
        await asyncio.wait_for(ran.wait(), 10)
        assert await timers.pending() == {}
    finally:
        await supervisor.stop()


async def test_a_timer_taken_by_an_engine_that_died_runs_again_later(redis: Redis) -> None:
    now = [1000.0]
    dying = DueTimers(redis, "timers-retry:", lambda: now[0], Supervisor())
    survivor = DueTimers(redis, "timers-retry:", lambda: now[0], Supervisor())

    async def dies(argument: str) -> None:
        raise RuntimeError("killed mid-timer")
    ran: list[str] = []

    async def runs(argument: str) -> None:
        ran.append(argument)
    dying.on("wrap_up_ends", dies)
    survivor.on("wrap_up_ends", runs)
    await dying.at("wrap_up_ends", "1001|call-1", 1000.0)
    await dying.run_due()
    assert await survivor.run_due() == 0 and ran == []  # taken: not run twice at once
    now[0] += RETRY_AFTER_MS / 1000
    assert await survivor.run_due() == 1 and ran == ["1001|call-1"]
    assert await survivor.pending() == {}


async def test_a_lapsed_lease_is_seen_by_peers_and_by_its_holder(redis: Redis) -> None:
    clock = lambda: int(time.time() * 1000)  # noqa: E731
    frozen = EngineLease(redis, "leases:", "engine", clock)
    peer = EngineLease(redis, "leases:", "engine", clock)
    assert frozen.instance_id != peer.instance_id  # same name, never the same id
    await frozen.take()
    await peer.take()
    assert not await peer.is_dead(frozen.instance_id)
    assert await peer.renew_and_look() == (True, [])
    for _ in range(4):  # the peer renews; the frozen engine misses its renewals
        await asyncio.sleep(LEASE_MS / 4000 + 0.1)
        assert (await peer.renew_and_look()).held
    assert await peer.is_dead(frozen.instance_id)
    assert await peer.renew_and_look() == (True, [frozen.instance_id])
    # It wakes up: told that its calls may be gone, and nothing about its peers.
    assert await frozen.renew_and_look() == (False, [])
    await frozen.take()
    assert not await peer.is_dead(frozen.instance_id)
    assert await peer.renew_and_look() == (True, [])


async def test_a_restarted_engine_ends_the_lease_of_its_killed_predecessor_at_once(
        redis: Redis) -> None:
    clock = lambda: int(time.time() * 1000)  # noqa: E731
    killed, running, elsewhere = (EngineLease(redis, "neighbours:", "engine", clock)
                                  for _ in range(3))
    gone = subprocess.Popen(["true"])
    gone.wait()
    alive = subprocess.Popen(["sleep", "30"])
    try:
        killed.here = f"{killed.here.rsplit(' ', 1)[0]} {gone.pid}"
        running.here = f"{running.here.rsplit(' ', 1)[0]} {alive.pid}"
        elsewhere.here = f"other-host {elsewhere.here.split(' ', 1)[1]}"
        for lease in (killed, running, elsewhere):
            await lease.take()
        restarted = EngineLease(redis, "neighbours:", "engine", clock)
        await restarted.take()
        # Only the process known gone loses its lease before it lapses.
        assert await restarted.end_dead_neighbours() == [killed.instance_id]
        assert await restarted.is_dead(killed.instance_id)
        assert not await restarted.is_dead(running.instance_id)
        assert not await restarted.is_dead(elsewhere.instance_id)
        assert await restarted.renew_and_look() == (True, [killed.instance_id])
    finally:
        alive.kill()
        alive.wait()

"""Background work under the supervisor: no failure lost, none logged twice, loops that
keep going."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

import pytest

from hotline.runtime.supervisor import Supervisor


async def test_a_failed_task_is_logged_once_with_its_call_and_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor()

    async def fails() -> None:
        raise ConnectionError("Redis is restarting")

    with caplog.at_level(logging.ERROR, "hotline.runtime.supervisor"):
        task = supervisor.spawn(fails(), "ending a call", "1733.42")
        await asyncio.wait([task])
        await asyncio.sleep(0)  # the done callback
    lines = [r for r in caplog.records if "ending a call" in r.getMessage()]
    assert len(lines) == 1
    assert "call 1733.42" in lines[0].getMessage() and "Redis is restarting" in \
        lines[0].getMessage()
    assert lines[0].exc_info is not None  # the first one carries its traceback
    assert supervisor.failures["ending a call"] == 1
    assert supervisor.running == 0


async def test_a_run_of_the_same_failure_shows_one_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    supervisor = Supervisor()

    async def fails() -> None:
        raise ConnectionError("down")

    with caplog.at_level(logging.ERROR, "hotline.runtime.supervisor"):
        await asyncio.wait([supervisor.spawn(fails(), "filing a recording", str(n))
                            for n in range(5)])
        await asyncio.sleep(0)
    lines = [r for r in caplog.records if "filing a recording" in r.getMessage()]
    assert len(lines) == 5  # each failure said once
    assert sum(r.exc_info is not None for r in lines) == 1
    assert "(5 so far)" in lines[-1].getMessage()


async def test_a_loop_that_fails_is_started_again_with_growing_pauses() -> None:
    supervisor = Supervisor()
    runs: list[float] = []
    loop = asyncio.get_running_loop()

    async def round_that_fails() -> None:
        runs.append(loop.time())
        if len(runs) < 4:
            raise ValueError("a garbled reply")
        await asyncio.Event().wait()  # healthy at last: runs until stopped

    supervisor.forever("matching", round_that_fails, pause_min=0.01, pause_max=0.04)
    async with asyncio.timeout(2):
        while len(runs) < 4:
            await asyncio.sleep(0.005)
    pauses = [b - a for a, b in itertools.pairwise(runs)]
    assert pauses[0] >= 0.01 and pauses[1] >= 0.02 and pauses[2] >= 0.04 * 0.99
    assert supervisor.failures["matching"] == 3
    await supervisor.stop()
    assert supervisor.running == 0


async def test_rounds_go_on_after_a_failed_round_until_stopped() -> None:
    supervisor = Supervisor()
    rounds = 0

    async def work() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise OSError("disk full")

    supervisor.every("retention purge", 0.005, work)
    async with asyncio.timeout(2):
        while rounds < 3:
            await asyncio.sleep(0.005)
    await supervisor.stop()
    assert supervisor.failures["retention purge"] == 1 and supervisor.running == 0


async def test_work_asked_for_after_stop_never_starts() -> None:
    supervisor = Supervisor()
    ran: list[str] = []

    async def work(name: str) -> None:
        ran.append(name)

    await supervisor.spawn(work("before"), "before")
    await supervisor.stop()
    late = supervisor.spawn(work("after"), "ending a ring")  # an event read at shutdown
    with contextlib.suppress(asyncio.CancelledError):
        await late
    assert late.cancelled() and ran == ["before"] and supervisor.failures == {}

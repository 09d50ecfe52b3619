"""A call's event handlers run in the order the events came; other calls' do not wait."""

from __future__ import annotations

import asyncio

from hotline.runtime.in_order import InOrder
from hotline.runtime.supervisor import Supervisor


async def test_a_calls_work_runs_in_order_and_other_calls_do_not_wait() -> None:
    supervisor = Supervisor()
    order = InOrder(supervisor)
    done: list[str] = []

    async def work(name: str, seconds: float, fail: bool = False) -> None:
        await asyncio.sleep(seconds)
        done.append(name)
        if fail:
            raise RuntimeError(name)

    order.run("c1", work("dial end", 0.05, fail=True), "ending a ring")
    order.run("c1", work("hangup", 0.0), "ending a call")  # after it, though quicker
    order.run("c2", work("other call", 0.0), "ending a call")
    await asyncio.sleep(0.1)
    assert done == ["other call", "dial end", "hangup"]  # a failure does not block the next
    assert not order._last  # nothing kept once the work is done
    await supervisor.stop()


async def test_work_stopped_before_it_began_is_closed_not_left_unawaited() -> None:
    supervisor = Supervisor()
    order = InOrder(supervisor)
    ran: list[str] = []

    async def work() -> None:
        ran.append("ran")

    queued = work()
    order.run("c1", queued, "ending a ring")
    await supervisor.stop()  # the engine stops before the task first runs
    assert ran == [] and queued.cr_frame is None  # closed: no "never awaited" warning

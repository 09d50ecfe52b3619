"""An exception lost in the event loop fails the test during which it was lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.conftest import LostExceptions

ROOT = Path(__file__).resolve().parents[2]


class _Holder:
    task: asyncio.Task[None] | None = None
    me: _Holder | None = None


async def _boom(text: str) -> None:
    raise ValueError(text)


def test_a_task_that_raised_is_reported_once_collected() -> None:
    lost = LostExceptions()
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lost)

    async def drop_a_failing_task() -> None:
        holder = _Holder()
        holder.task = loop.create_task(_boom("nobody awaited me"))
        holder.me = holder  # a cycle: only the garbage collector frees the task
        await asyncio.sleep(0.01)

    try:
        loop.run_until_complete(drop_a_failing_task())
    finally:
        loop.close()
    report = lost.report()
    assert "Task exception was never retrieved" in report
    assert "ValueError: nobody awaited me" in report and "_boom" in report
    assert lost.report() == ""  # each lost exception is told once


def test_a_callback_that_raised_is_reported() -> None:
    lost = LostExceptions()
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lost)

    def callback() -> None:
        raise RuntimeError("in a callback")

    try:
        loop.call_soon(callback)
        loop.run_until_complete(asyncio.sleep(0.01))
    finally:
        loop.close()
    report = lost.report()
    assert "Exception in callback" in report and "RuntimeError: in a callback" in report


def test_the_test_that_lost_it_fails_and_the_next_one_passes(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeini("""
        [pytest]
        asyncio_mode = auto
        asyncio_default_fixture_loop_scope = session
        asyncio_default_test_loop_scope = session
    """)
    pytester.makeconftest(
        "from tests.conftest import fail_on_lost_exceptions, lost_exceptions  # noqa: F401\n")
    pytester.makepyfile(test_lost="""
        import asyncio

        class Holder:
            pass

        async def boom():
            raise ValueError("lost in the background")

        async def test_drops_a_failing_task():
            holder = Holder()
            holder.task = asyncio.ensure_future(boom())
            holder.me = holder
            await asyncio.sleep(0.01)

        async def test_after_it():
            await asyncio.sleep(0.01)

        def test_sync_after_it():
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-rE")
    # Each test passes its own body; the one that lost the exception errors at its end,
    # and the tests after it are not blamed.
    result.assert_outcomes(passed=3, errors=1)
    output = result.stdout.str()
    assert "ERROR test_lost.py::test_drops_a_failing_task" in output
    assert "Task exception was never retrieved" in output
    assert "ValueError: lost in the background" in output

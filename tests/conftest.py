"""Fixtures shared by every layer.

Integration fixtures start their own Asterisk sandbox instance and redis-server on free
ports, once per test session, and never touch the system's 5038/5060/6379.

Every test runs on one session-wide event loop. An exception that nobody retrieved there
(a background task that raised and was dropped, a callback that failed) fails the test
during which it reached the loop's exception handler.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import itertools
import os
import traceback
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis, free_port
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from ivr.welcome import WelcomePrompts, welcome_menu
from pbx.ami_codec import Message

pytest_plugins = ["pytester"]

_prefixes = itertools.count(1)


class LostExceptions:
    """The loop's exception handler: keeps every context it is given ("Task exception
    was never retrieved", "Exception in callback ...", "Task was destroyed but it is
    pending!") until a test's end takes them."""

    def __init__(self) -> None:
        self.contexts: list[dict[str, Any]] = []

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.contexts.append(context)

    def take(self, collect: bool = True) -> list[dict[str, Any]]:
        """Everything recorded so far, after a garbage collection: a task that raised
        is only reported when it is collected, and a reference cycle (an exception's
        traceback holds frames) may keep it until the collector runs."""
        if collect:
            gc.collect()
        taken, self.contexts = self.contexts, []
        return taken

    def report(self, collect: bool = True) -> str:
        """What `take` found, told for a test failure; empty when nothing was lost."""
        return "\n\n".join(describe(context) for context in self.take(collect))


def describe(context: dict[str, Any]) -> str:
    lines = [str(context.get("message", "unhandled exception in the event loop"))]
    for key in ("task", "future", "handle"):
        if key in context:
            lines.append(f"{key}: {context[key]!r}")
    exception = context.get("exception")
    if isinstance(exception, BaseException):
        lines.append("".join(traceback.format_exception(exception)).rstrip())
    elif "source_traceback" in context:
        lines.append("".join(traceback.format_list(context["source_traceback"])).rstrip())
    return "\n".join(lines)


@pytest_asyncio.fixture(scope="session", loop_scope="session", autouse=True)
async def lost_exceptions() -> AsyncIterator[LostExceptions]:
    """Installed on the session's event loop, the one every test and fixture runs on."""
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    lost = LostExceptions()
    loop.set_exception_handler(lost)
    yield lost
    loop.set_exception_handler(previous)


@pytest.fixture(autouse=True)
def fail_on_lost_exceptions(lost_exceptions: LostExceptions,
                            request: pytest.FixtureRequest) -> Iterator[None]:
    """After the test and its other fixtures are done (an engine's stop included): the
    test fails if any exception was lost in the meantime. Only an async test runs on
    the loop and can drop a task there: the others skip the collection, most of a pure
    test's cost (anything left over is still found at the next async test)."""
    yield
    report = lost_exceptions.report(collect=inspect.iscoroutinefunction(request.function))
    if report:
        pytest.fail(f"exception(s) lost in the event loop during this test:\n{report}",
                    pytrace=False)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[LocalRedis]:
    server = LocalRedis().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def asterisk() -> Iterator[sandbox.SandboxInstance]:
    name = f"test-{os.getpid()}"
    box = sandbox.start(name, free_port(), free_port(), 40000 + 2 * (os.getpid() % 5000))
    yield box
    sandbox.stop(name)


@pytest.fixture
async def redis(redis_server: LocalRedis) -> AsyncIterator[Redis]:
    client = connect(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def settings(asterisk: sandbox.SandboxInstance, redis_server: LocalRedis) -> Settings:
    # A key prefix per test keeps each test's call records apart in the shared Redis.
    return replace(Settings(ami=asterisk.ami, redis_url=redis_server.url),
                   key_prefix=f"hotline-test-{next(_prefixes)}:", shutdown_grace=2.0,
                   prompts_dir=Path(str(asterisk.state["sounds_dir"])),
                   prompts_dir_asterisk=str(asterisk.state["sounds_dir_in_chroot"]),
                   recordings_dir=Path(str(asterisk.state["recordings_dir"])),
                   recordings_dir_asterisk=str(asterisk.state["recordings_dir_in_chroot"]),
                   secret_key=b"test-secret-key")


@pytest.fixture
async def engine(settings: Settings, redis: Redis) -> AsyncIterator[Engine]:
    """An engine running the first menu (welcome, a key, said back): for the tests of
    the telephony path itself, independent of the example's menus."""
    prompts = WelcomePrompts()
    engine = Engine(settings, redis, menu=lambda line: welcome_menu(line, prompts),
                    watch_config=False)
    await engine.start()
    yield engine
    await engine.stop()


@pytest.fixture
async def hotline(settings: Settings, redis: Redis) -> AsyncIterator[Engine]:
    """The whole product: the routing YAML's menus and queues."""
    engine = Engine(settings, redis)
    await engine.start()
    yield engine
    await engine.stop()


class EventTap:
    """Every raw AMI event an engine's connection sees, for assertions and waits."""

    def __init__(self) -> None:
        self.events: list[Message] = []
        self._changed = asyncio.Event()

    def __call__(self, msg: Message) -> None:
        self.events.append(msg)
        self._changed.set()

    async def wait_for(self, match: Callable[[Message], bool], timeout: float) -> Message:
        async with asyncio.timeout(timeout):
            seen = 0
            while True:
                for msg in self.events[seen:]:
                    if match(msg):
                        return msg
                seen = len(self.events)
                self._changed.clear()
                await self._changed.wait()


@pytest.fixture
def tap(engine: Engine) -> Iterator[EventTap]:
    tap = EventTap()
    engine.ami.add_raw_listener(tap)
    yield tap
    engine.ami.remove_raw_listener(tap)

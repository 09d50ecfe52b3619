"""Fixtures shared by every layer.

Integration fixtures start their own Asterisk sandbox instance and redis-server on free
ports, once per test session, and never touch the system's 5038/5060/6379.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hotline.dev import sandbox
from hotline.dev.local_redis import LocalRedis, free_port
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from ivr.welcome import WelcomePrompts, welcome_menu
from pbx.ami_codec import Message

_prefixes = itertools.count(1)


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

"""The config version this engine serves from, kept in step with Redis.

Redis holds the active version for every engine instance. The file named in the
settings is an input: at first start it becomes version 1, and later it is activated
again on SIGHUP or when it changes on disk. A version that does not validate never
replaces the one callers are served from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.exceptions import RedisError

from config.loader import ConfigError, Loaded, check, load_text
from config.model import HotlineConfig
from config.versions import ConfigVersions, Version
from hotline.runtime.heap import settle_after_activation
from hotline.runtime.supervisor import Supervisor

log = logging.getLogger(__name__)


class LiveConfig:
    def __init__(self, versions: ConfigVersions, path: Path, author: str,
                 poll_every: float = 2.0,
                 prepare: Callable[[HotlineConfig], Awaitable[None]] | None = None,
                 supervisor: Supervisor | None = None) -> None:
        # Alone (tools, tests), it watches its own followers; in the engine, the engine's
        # supervisor does, and stops them.
        self._own_supervisor = supervisor is None
        self.supervisor = supervisor or Supervisor()
        # `prepare` runs before a version is served (rendering its prompts, say).
        self.prepare = prepare
        self.versions = versions
        self.path = path
        self.author = author
        self.poll_every = poll_every
        self.loaded: Loaded | None = None
        self.version: int | None = None
        self.listeners: list[Callable[[HotlineConfig, int], None]] = []
        self._file_stamp: tuple[float, int] | None = None
        self._wanted: int | None = None

    @property
    def config(self) -> HotlineConfig:
        assert self.loaded is not None, "LiveConfig.start() first"
        return self.loaded.config

    async def start(self, watch: bool = True) -> None:
        active = await self.versions.active()
        if active is None:
            if not await self.activate_file("first start"):
                _, problems = check(self.path)
                raise ConfigError(problems)
        else:
            await self._adopt(active)
            self._file_stamp = self._stamp()
        if watch:
            # Started again after any failure: a follower that died silently would leave
            # this engine on an old version while the others moved on.
            self.supervisor.forever("following the live config version", self._follow_redis,
                                    pause_max=self.poll_every)
            self.supervisor.forever("watching the config file", self._watch_file,
                                    pause_max=self.poll_every)

    async def stop(self) -> None:
        if self._own_supervisor:
            await self.supervisor.stop()

    async def activate_file(self, why: str) -> bool:
        """Activate the file's current text; False (and the reasons logged) if invalid."""
        self._file_stamp = self._stamp()
        try:
            text = self.path.read_text(encoding="utf-8")
            activation = await self.versions.activate(text, author=self.author,
                                                      source=str(self.path))
        except ConfigError as exc:
            log.error("config %s not activated (%s); still serving version %s:\n%s",
                      self.path, why, self.version, exc)
            return False
        except OSError as exc:
            log.error("config %s unreadable (%s): %s", self.path, why, exc)
            return False
        if activation.changed:
            log.info("config version %s activated from %s (%s)", activation.version.number,
                     self.path, why)
        await self._adopt(activation.version, activation.loaded)
        return True

    async def refresh(self) -> None:
        """Follow the active pointer in Redis (another engine or the CLI moved it)."""
        number = await self.versions.active_number()
        if number is not None and number != self.version:
            version = await self.versions.get(number)
            if version is not None:
                await self._adopt(version)

    async def _adopt(self, version: Version, loaded: Loaded | None = None) -> None:
        if version.number == self.version:
            return
        if loaded is None:
            try:
                loaded = load_text(version.text, version.source)
            except ConfigError as exc:
                # Written by a newer or older engine whose contract differs: keep serving.
                log.error("active config version %s does not load here; staying on %s:\n%s",
                          version.number, self.version, exc)
                return
        self._wanted = version.number
        if self.prepare is not None:
            try:
                await self.prepare(loaded.config)
            except Exception:
                log.exception("preparing config version %s failed; serving it anyway",
                              version.number)
            if self._wanted != version.number:
                return  # a newer version arrived while this one was being prepared
        self.loaded, self.version = loaded, version.number  # one swap: atomic for readers
        for listener in self.listeners:
            listener(loaded.config, version.number)
        settle_after_activation()

    async def _follow_redis(self) -> None:
        async with self.versions.redis.pubsub() as pubsub:
            await pubsub.subscribe(self.versions.channel)
            await self.refresh()  # anything missed while not subscribed
            while True:
                await pubsub.get_message(ignore_subscribe_messages=True,
                                         timeout=self.poll_every)
                await self.refresh()

    async def _watch_file(self) -> None:
        while True:
            await asyncio.sleep(self.poll_every)
            stamp = self._stamp()
            if stamp is not None and stamp != self._file_stamp:
                try:
                    await self.activate_file("file changed on disk")
                except RedisError as exc:
                    log.warning("config file changed but Redis is unavailable: %s", exc)
                    self._file_stamp = None  # try again next round

    def _stamp(self) -> tuple[float, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)

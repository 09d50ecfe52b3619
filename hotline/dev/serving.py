"""`hotline serve` processes for the benches: started under a key prefix, each with a log
file, killable, and known by the lease each one takes."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis


@dataclass
class ServeProcesses:
    env: dict[str, str]  # `sandbox.serve_environment(...)`
    prefix: str
    logs: Path
    redis: Redis
    name: str = "engine"  # each process's HOTLINE_INSTANCE_ID is this and a count
    procs: list[asyncio.subprocess.Process] = field(default_factory=list)
    started: int = 0

    async def start(self, timeout: float = 60.0) -> tuple[asyncio.subprocess.Process, str]:
        """A new engine process, once it holds its lease; returns it and the lease id."""
        self.started += 1
        name = f"{self.name}{self.started}"
        with self.log_of(self.started).open("wb") as log:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hotline", "serve",
                env={**self.env, "HOTLINE_INSTANCE_ID": name}, stdout=log, stderr=log)
        self.procs.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            async for key in self.redis.scan_iter(f"{self.prefix}engine:{name}-*"):
                return proc, str(key).removeprefix(f"{self.prefix}engine:")
            if proc.returncode is not None:
                break
            await asyncio.sleep(0.05)
        raise RuntimeError(f"engine {name} took no lease; its log:\n"
                           f"{self.log_of(self.started).read_text(errors='replace')[-2000:]}")

    def log_of(self, number: int) -> Path:
        return self.logs / f"engine-{number}.log"

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                proc.terminate()
        await asyncio.gather(*(proc.wait() for proc in self.procs))

    def tracebacks(self) -> int:
        """Tracebacks in every engine's log: each is a failure someone must read."""
        return sum(self.log_of(n).read_text(errors="replace")
                   .count("Traceback (most recent call last)")
                   for n in range(1, self.started + 1) if self.log_of(n).exists())

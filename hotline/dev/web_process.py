"""A `hotline web` process for the demo, the tests and the benches: started on a free
port against a Redis and a key prefix, ready once it answers /healthz, with its log."""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hotline.dev.local_redis import free_port


@dataclass
class WebProcess:
    redis_url: str
    prefix: str
    log_path: Path
    port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    tls: tuple[Path, Path] | None = None  # certificate and key: HTTPS
    recordings_dir: Path | None = None  # where the engines file recordings
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"{'http' if self.tls is None else 'https'}://{self.host}:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "HOTLINE_REDIS_URL": self.redis_url,
               "HOTLINE_KEY_PREFIX": self.prefix}
        if self.recordings_dir is not None:
            env["HOTLINE_RECORDINGS_DIR"] = str(self.recordings_dir)
        return env

    async def add_account(self, username: str, role: str, password: str, agent: str = "",
                          name: str = "") -> None:
        """An account, made as an admin makes one: with `hotline users add`."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline", "users", "add", username, "--role", role,
            "--agent", agent, "--name", name, "--password-stdin", env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        out, _ = await proc.communicate(f"{password}\n".encode())
        if proc.returncode != 0:
            raise RuntimeError(f"hotline users add {username}: {out.decode(errors='replace')}")

    async def start(self, timeout: float = 30.0) -> WebProcess:
        env = self.env
        with self.log_path.open("wb") as log:
            tls = [] if self.tls is None else ["--tls-cert", str(self.tls[0]),
                                               "--tls-key", str(self.tls[1])]
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hotline", "web", "--listen",
                f"{self.host}:{self.port}", *tls, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                break
            if await self.status("/healthz") == 200:
                return self
            await asyncio.sleep(0.1)
        raise RuntimeError(f"hotline web did not come up; its log:\n{self.log()[-2000:]}")

    async def status(self, path: str) -> int | None:
        """The HTTP status of a GET of `path`, or None when nothing answers."""
        try:
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=None if self.tls is None else _unverified())
        except OSError:
            return None
        try:
            writer.write(f"GET {path} HTTP/1.0\r\nHost: {self.host}\r\n\r\n".encode())
            await writer.drain()
            first = await reader.readline()
            parts = first.split()
            return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        finally:
            writer.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tracebacks(self) -> int:
        return self.log().count("Traceback (most recent call last)")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def _unverified() -> ssl.SSLContext:
    """For the health check of our own process, on its own self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context

"""A private Redis Sentinel set for the tests: a master, its replica and Sentinels
watching them, each on a free port with its own directory.

The Sentinels notice a dead master within a second (`down-after-milliseconds`) and
promote the replica, so a test can kill the master and watch the engine follow. It
never touches the system's Redis on 6379 or a system Sentinel on 26379.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError

from hotline.dev.local_redis import LocalRedis, free_port

MASTER_NAME = "hotline"


def _sentinel_command() -> list[str]:
    binary = shutil.which("redis-sentinel")
    if binary is not None:
        return [binary]
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-sentinel is not installed: apt-get install -y redis-sentinel")
    return [server, "--sentinel"]  # the same program, in Sentinel mode


def _ask(port: int, *command: str | int) -> object:
    with Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1,
               decode_responses=True) as client:
        return client.execute_command(*command)


def _until(holds: Callable[[], object], timeout: float, what: str, logs: list[Path]) -> None:
    """Until `holds()` returns True (anything else: what it saw, told at the deadline)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = holds()
        except (RedisError, OSError) as exc:
            last = exc
        if last is True:
            return
        time.sleep(0.05)
    tails = "\n".join(f"--- {log}\n{log.read_text(errors='replace')[-1500:]}"
                      for log in logs if log.exists())
    raise RuntimeError(f"not within {timeout:g}s: {what} (last seen: {last!r})\n{tails}")


class LocalSentinel:
    """`servers[0]` starts as the master, `servers[1]` as its replica. `url` is the
    `redis+sentinel://` URL of the set, as an operator writes it."""

    def __init__(self, sentinels: int = 3, down_after_ms: int = 1000,
                 failover_timeout_ms: int = 3000) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="hotline-sentinel-"))
        # A replica is sent the data set at once, not after the default 5 s wait for
        # more replicas to share the transfer.
        at_once = ["--repl-diskless-sync-delay", "0"]
        master = LocalRedis(self.directory / "master", options=at_once)
        replica = LocalRedis(self.directory / "replica", options=[
            *at_once, "--replicaof", "127.0.0.1", str(master.port)])
        self.servers = [master, replica]
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.quorum = sentinels // 2 + 1
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{MASTER_NAME}/0"

    def _logs(self) -> list[Path]:
        return [self.directory / name / log for name, log in
                [("master", "redis.log"), ("replica", "redis.log")]
                + [(f"sentinel-{n}", "sentinel.log") for n in range(len(self.sentinel_ports))]]

    def start(self) -> LocalSentinel:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        master, replica = self.servers
        master.start()
        replica.start()
        # Replicating before the Sentinels look: they learn of replicas from the master.
        def in_sync() -> object:
            info = _ask(replica.port, "INFO", "replication")
            assert isinstance(info, dict), info
            return info.get("master_link_status") == "up" or info
        _until(in_sync, 15, "the replica is in sync with the master", self._logs())
        command = _sentinel_command()
        for n, port in enumerate(self.sentinel_ports):
            directory = self.directory / f"sentinel-{n}"
            directory.mkdir()
            conf = directory / "sentinel.conf"  # Sentinel rewrites it: its own copy
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {directory}\n"
                f"logfile {directory / 'sentinel.log'}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master.port} {self.quorum}\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} {self.down_after_ms}\n"
                f"sentinel failover-timeout {MASTER_NAME} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {MASTER_NAME} 1\n")
            self.processes.append(subprocess.Popen(
                [*command, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        others = len(self.sentinel_ports) - 1
        for port in self.sentinel_ports:
            # A Sentinel that knows no replica, or too few peers for a quorum, would
            # never fail over.
            def ready(port: int = port) -> object:
                state = self._state(port)
                return (int(state["num-slaves"]) >= 1
                        and int(state["num-other-sentinels"]) >= others) or state
            _until(ready, 20, f"the Sentinel on port {port} sees the replica and its peers",
                   self._logs())

    def _state(self, port: int) -> dict[str, str]:
        reply = _ask(port, "SENTINEL", "MASTER", MASTER_NAME)
        if isinstance(reply, dict):
            return {str(k): str(v) for k, v in reply.items()}
        assert isinstance(reply, list), reply
        return {str(k): str(v) for k, v in zip(reply[::2], reply[1::2], strict=True)}

    def master_port(self, sentinel_port: int | None = None) -> int:
        """The master's port, as a Sentinel (the first, by default) names it now."""
        reply = _ask(sentinel_port or self.sentinel_ports[0],
                     "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER_NAME)
        assert isinstance(reply, list | tuple) and len(reply) == 2, reply
        return int(reply[1])

    def server(self, port: int) -> LocalRedis:
        return next(server for server in self.servers if server.port == port)

    def wait_for_failover(self, old_master: int, timeout: float = 30) -> LocalRedis:
        """Until every Sentinel names another master than `old_master` and that server
        says it is a master; that server."""
        def switched() -> object:
            ports = {self.master_port(port) for port in self.sentinel_ports}
            if len(ports) != 1 or old_master in ports:
                return ports
            role = _ask(ports.pop(), "ROLE")
            return (isinstance(role, list) and role[0] == "master") or role
        _until(switched, timeout, f"the Sentinels promote a replica of {old_master}",
               self._logs())
        return self.server(self.master_port())

    def __enter__(self) -> LocalSentinel:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
        for server in self.servers:
            server.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

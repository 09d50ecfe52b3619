"""The engine's own HTTP face, for its operator and Prometheus: `/healthz` (the process
answers), `/readyz` (it can serve calls: AMI logged in, its lease held, Redis answering)
and `/metrics` (this engine's own figures; the hotline's, shared by all engines, are the
web side's `/metrics`). Served by twisted.web on the engine's own asyncio loop, and only
when HOTLINE_HTTP_LISTEN asks for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hotline.runtime.redis_client import failed_attempts

log = logging.getLogger(__name__)


class EngineMetrics:
    def __init__(self, instance_id: str, ami_up: Callable[[], bool],
                 lease_held: Callable[[], bool], redis: Redis,
                 calls_now: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = {"engine": instance_id}
        self.agi_round_trip = Histogram(
            "hotline_agi_command_seconds", "AGI commands, from sending one to its result "
            "(a prompt's playing time included)", registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        Gauge("hotline_ami_connected", "Whether this engine is logged in to AMI now",
              list(labels), registry=self.registry).labels(**labels) \
            .set_function(lambda: 1.0 if ami_up() else 0.0)
        Gauge("hotline_engine_lease_held", "Whether this engine holds its lease now",
              list(labels), registry=self.registry).labels(**labels) \
            .set_function(lambda: 1.0 if lease_held() else 0.0)
        Gauge("hotline_engine_calls", "Calls this engine serves now", list(labels),
              registry=self.registry).labels(**labels).set_function(lambda: float(calls_now()))
        self._redis_errors = Counter("hotline_redis_errors", "Redis commands of this engine "
                                     "that failed an attempt (each retry counts)",
                                     registry=self.registry)
        self._redis = redis
        self._counted = 0

    def exposition(self) -> bytes:
        seen = failed_attempts(self._redis)
        self._redis_errors.inc(max(0, seen - self._counted))
        self._counted = seen
        return generate_latest(self.registry)


def serve_health(listen: str, metrics: EngineMetrics, ready: Callable[[], Any]) -> Any:
    """Listen on `listen` (host:port); returns twisted's listening port. `ready`: a
    coroutine function returning None when ready, else why not."""
    from twisted.internet import asyncioreactor

    # Installed already when another engine of this process (a test's) listens too.
    with contextlib.suppress(Exception):
        asyncioreactor.install(asyncio.get_running_loop())  # type: ignore[no-untyped-call]
    from twisted.internet import reactor as installed
    from twisted.web.resource import Resource
    from twisted.web.server import NOT_DONE_YET, Site

    reactor: Any = installed

    class Health(Resource):
        isLeaf = True
        asked: ClassVar[set[asyncio.Task[None]]] = set()  # readiness checks under way

        def render_GET(self, request: Any) -> Any:
            path = request.path.decode(errors="replace")
            request.setHeader(b"cache-control", b"no-store")
            if path == "/metrics":
                request.setHeader(b"content-type", b"text/plain; version=0.0.4")
                return metrics.exposition()
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            if path == "/healthz":
                return b"ok\n"
            if path != "/readyz":
                request.setResponseCode(404)
                return b"no such page\n"
            task = asyncio.ensure_future(self._ready(request))
            self.asked.add(task)
            task.add_done_callback(self.asked.discard)
            return NOT_DONE_YET

        async def _ready(self, request: Any) -> None:
            try:
                why = await ready()
            except RedisError as exc:
                why = f"Redis: {exc}"
            if request._disconnected:
                return
            if why:
                request.setResponseCode(503)
            request.write(f"not ready: {why}\n".encode() if why else b"ready\n")
            request.finish()

    host, _, port = listen.rpartition(":")
    site = Site(Health())  # type: ignore[no-untyped-call]
    bound = reactor.listenTCP(int(port), site, interface=host or "127.0.0.1")
    log.info("health and metrics on http://%s:%s/", bound.getHost().host, bound.getHost().port)
    return bound


async def stop_health(bound: Any) -> None:
    """Stop listening (twisted answers with a Deferred, awaited here as a future)."""
    stopped = bound.stopListening()
    if stopped is not None:
        await stopped.asFuture(asyncio.get_running_loop())

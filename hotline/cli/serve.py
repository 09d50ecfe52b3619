"""`hotline serve`: serve calls until stopped. SIGTERM or SIGINT stops it (menus get a
moment to finish); SIGHUP activates the config file again."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.settings import MissingSecretKey, Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from hotline.engine import Engine

log = logging.getLogger(__name__)


def add_serve_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="serve calls until stopped (SIGTERM/SIGINT); "
                           "SIGHUP activates the config file again")
    serve.add_argument("--config", type=Path, default=None,
                       help="routing YAML (default: HOTLINE_CONFIG or the example)")
    serve.add_argument("--ami-host")
    serve.add_argument("--ami-port", type=int)
    serve.add_argument("--redis-url")


def serve_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.config:
        settings = replace(settings, config_path=args.config)
    if args.ami_host or args.ami_port:
        settings = replace(settings, ami=replace(
            settings.ami, host=args.ami_host or settings.ami.host,
            port=args.ami_port or settings.ami.port))
    if args.redis_url:
        settings = replace(settings, redis_url=args.redis_url)
    return asyncio.run(serve_forever(settings))


def _serve_health(engine: Engine, redis: Redis) -> Any:
    from hotline.runtime.health import EngineMetrics, serve_health
    from pbx.ami import ConnectionState

    metrics = EngineMetrics(engine.lease.instance_id,
                            lambda: engine.ami.state is ConnectionState.UP,
                            engine.lease.holds, redis, lambda: len(engine.agi.calls))
    engine.agi.on_round_trip = metrics.agi_round_trip.observe

    async def ready() -> str | None:
        if engine.ami.state is not ConnectionState.UP:
            return "not logged in to AMI"
        if not engine.lease.holds():
            return "the engine's lease is not held"
        await redis.ping()
        return None

    assert engine.settings.http_listen is not None
    return serve_health(engine.settings.http_listen, metrics, ready)


async def serve_forever(settings: Settings) -> int:
    from config.loader import ConfigError
    from hotline.engine import Engine
    from hotline.runtime.redis_client import connect

    try:
        settings.secret_for("billing")
    except MissingSecretKey as exc:
        print(f"not starting: {exc}", file=sys.stderr)
        return 2
    redis = connect(settings.redis_url, lane=settings.redis_lane)
    engine = Engine(settings, redis)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # A reload that fails (Redis away, say) is logged by the supervisor, never lost.
    loop.add_signal_handler(signal.SIGHUP, lambda: engine.supervisor.spawn(
        engine.live.activate_file("SIGHUP"), "activating the config file on SIGHUP"))
    try:
        await engine.start(wait=None)  # AMI may come later: the engine keeps trying
    except ConfigError as exc:
        print(f"not starting: {settings.config_path} is invalid and no version is active"
              f"\n{exc}", file=sys.stderr)
        await redis.aclose()
        return 2
    log.info("serving calls with config version %s; AMI %s:%s, instance %s",
             engine.live.version, settings.ami.host, settings.ami.port, engine.lease.instance_id)
    health = _serve_health(engine, redis) if settings.http_listen else None
    await stop.wait()
    if health is not None:
        from hotline.runtime.health import stop_health

        await stop_health(health)
    log.info("stopping: calls in menus get %.0fs to finish", settings.shutdown_grace)
    await engine.stop()
    await redis.aclose()
    return 0

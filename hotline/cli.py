"""The `hotline` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path

from hotline.settings import DEFAULT_CONFIG, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description="The hotline engine.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve calls until stopped (SIGTERM/SIGINT)")
    serve.add_argument("--config", type=Path, default=None,
                       help="routing YAML (default: HOTLINE_CONFIG or the example)")
    serve.add_argument("--ami-host")
    serve.add_argument("--ami-port", type=int)
    serve.add_argument("--redis-url")

    demo = sub.add_parser("demo", help="sandbox + Redis + example config + simulated calls")
    demo.add_argument("--keep", action="store_true", help="leave the sandbox running")

    config = sub.add_parser("config", help="the routing YAML")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="print every problem; exit 0 only if valid")
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_CONFIG)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "config":
        return config_check(args.file)
    if args.command == "demo":
        from hotline.demo import run_demo

        if not args.verbose:
            logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(run_demo(keep=args.keep))
    settings = Settings.from_env()
    if args.config:
        settings = replace(settings, config_path=args.config)
    if args.ami_host or args.ami_port:
        settings = replace(settings, ami=replace(
            settings.ami, host=args.ami_host or settings.ami.host,
            port=args.ami_port or settings.ami.port))
    if args.redis_url:
        settings = replace(settings, redis_url=args.redis_url)
    return asyncio.run(serve_forever(settings))


def config_check(path: Path) -> int:
    from config.loader import check

    config, problems = check(path)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    if config is not None and not errors:
        print(f"{path}: valid, with {len(problems)} warning(s)" if problems
              else f"{path}: valid")
        return 0
    print(f"{path}: {errors} error(s)")
    return 1


async def serve_forever(settings: Settings) -> int:
    from config.loader import ConfigError, load
    from hotline.engine import Engine
    from hotline.redis_client import connect

    try:
        load(settings.config_path)
    except ConfigError as exc:
        print(f"not starting: {settings.config_path} is invalid\n{exc}", file=sys.stderr)
        return 2
    redis = connect(settings.redis_url)
    engine = Engine(settings, redis)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    engine.accepting = True
    engine.ami.start()
    logging.getLogger(__name__).info(
        "serving calls; AMI %s:%s, instance %s", settings.ami.host, settings.ami.port,
        settings.instance_id)
    await stop.wait()
    logging.getLogger(__name__).info("stopping: calls in menus get %.0fs to finish",
                                     settings.shutdown_grace)
    await engine.stop()
    await redis.aclose()
    return 0

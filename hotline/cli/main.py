"""The `hotline` command: one module per command group, each adding its own parser."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import select
import sys

from hotline.cli.agents import add_agents_parser, agents_command
from hotline.cli.billing import add_billing_parser, billing_command
from hotline.cli.config_versions import add_config_parser, config_command
from hotline.cli.doctor import add_doctor_parser, doctor_command
from hotline.cli.people import add_people_parsers, users_command, web_command
from hotline.cli.prompts import add_prompts_parser, prompts_build
from hotline.cli.queues import add_queues_parser, queues_command
from hotline.cli.recordings import add_recordings_parser, recordings_command
from hotline.cli.serve import add_serve_parser, serve_command
from hotline.cli.simulate import add_simulate_parser, simulate_command
from hotline.cli.surveys import add_surveys_parser, surveys_report
from hotline.runtime import logs
from hotline.runtime.redis_url import RedisUrlError
from hotline.settings import Settings

# What a Unix tool killed by SIGPIPE exits with (128 + 13): `... | head` stopped reading.
READER_GONE = 141


def main(argv: list[str] | None = None) -> int:
    """Every command is safe to pipe into `head`, `less` or `grep -m1`: when the reader
    goes away, the command stops quietly instead of dying with a traceback."""
    try:
        code = _run(argv)
        # Output still buffered meets a closed pipe here, inside the handler below,
        # rather than at interpreter exit, where it would print "Exception ignored".
        sys.stdout.flush()
        return code
    except RedisUrlError as exc:  # before any connection: what to fix, not a traceback
        print(f"hotline: {exc} (HOTLINE_REDIS_URL, or --redis-url)", file=sys.stderr)
        return 2
    except BrokenPipeError:
        fd = _stdout_fd()
        if fd is not None and not _reader_gone(fd):
            raise  # a socket of the engine's broke, not our output: that is a real fault
        if fd is not None:
            _discard(fd)
        return READER_GONE


def _stdout_fd() -> int | None:
    try:
        return sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return None  # a stand-in stdout (a test's): the broken pipe can only be its own


def _reader_gone(fd: int) -> bool:
    """Is the other end of our stdout closed? (A pipe says so with POLLERR.)"""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _discard(fd: int) -> None:
    """Point stdout at /dev/null, so the interpreter's last flush of what is still
    buffered has somewhere to go."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _run(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description="The hotline engine.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(sub)
    demo = sub.add_parser("demo", help="sandbox + Redis + example config + simulated calls")
    demo.add_argument("--keep", action="store_true", help="leave the sandbox running")
    demo.add_argument("--once", action="store_true",
                      help="serve three callers, tell what they heard, and stop (no web side)")
    add_config_parser(sub)
    add_surveys_parser(sub)
    add_recordings_parser(sub)
    add_queues_parser(sub)
    add_prompts_parser(sub)
    add_billing_parser(sub)
    add_doctor_parser(sub)
    add_people_parsers(sub)
    add_simulate_parser(sub)
    add_agents_parser(sub)

    args = parser.parse_args(argv)
    logs.configure(logging.DEBUG if args.verbose else logging.INFO)
    settings = Settings.from_env()
    match args.command:
        case "recordings":
            return asyncio.run(recordings_command(args, settings))
        case "queues":
            return asyncio.run(queues_command(args, settings))
        case "surveys":
            return asyncio.run(surveys_report(settings))
        case "prompts":
            return prompts_build(args.config or settings.config_path,
                                 args.dir or settings.prompts_dir)
        case "config":
            return config_command(args, settings)
        case "billing":
            return asyncio.run(billing_command(args, settings))
        case "doctor":
            return asyncio.run(doctor_command(args, settings))
        case "web":
            return web_command(args, settings)
        case "users":
            return asyncio.run(users_command(args, settings))
        case "agents":
            return agents_command(args, settings)
        case "simulate":
            return simulate_command(args, settings)
        case "demo":
            from hotline.dev.demo import run_demo

            if not args.verbose:
                logging.getLogger().setLevel(logging.WARNING)
            try:
                return asyncio.run(run_demo(keep=args.keep, once=args.once))
            except KeyboardInterrupt:  # Ctrl-C is how a running demo ends
                print("demo stopped: the engine, the web side and the sandbox are down")
                return 0
        case _:
            return serve_command(args, settings)

"""The `hotline` command: one module per command group, each adding its own parser."""

from __future__ import annotations

import argparse
import asyncio
import logging

from hotline.cli.config_versions import add_config_parser, config_command
from hotline.cli.prompts import add_prompts_parser, prompts_build
from hotline.cli.queues import add_queues_parser, queues_command
from hotline.cli.recordings import add_recordings_parser, recordings_command
from hotline.cli.serve import add_serve_parser, serve_command
from hotline.cli.surveys import add_surveys_parser, surveys_report
from hotline.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description="The hotline engine.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(sub)
    demo = sub.add_parser("demo", help="sandbox + Redis + example config + simulated calls")
    demo.add_argument("--keep", action="store_true", help="leave the sandbox running")
    add_config_parser(sub)
    add_surveys_parser(sub)
    add_recordings_parser(sub)
    add_queues_parser(sub)
    add_prompts_parser(sub)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
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
        case "demo":
            from hotline.dev.demo import run_demo

            if not args.verbose:
                logging.getLogger().setLevel(logging.WARNING)
            return asyncio.run(run_demo(keep=args.keep))
        case _:
            return serve_command(args, settings)

"""The `hotline` command."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from hotline.cli.queues import add_queues_parser, queues_command
from hotline.cli.recordings import add_recordings_parser, recordings_command
from hotline.settings import DEFAULT_CONFIG, Settings

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline", description="The hotline engine.")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve calls until stopped (SIGTERM/SIGINT); "
                           "SIGHUP activates the config file again")
    serve.add_argument("--config", type=Path, default=None,
                       help="routing YAML (default: HOTLINE_CONFIG or the example)")
    serve.add_argument("--ami-host")
    serve.add_argument("--ami-port", type=int)
    serve.add_argument("--redis-url")

    demo = sub.add_parser("demo", help="sandbox + Redis + example config + simulated calls")
    demo.add_argument("--keep", action="store_true", help="leave the sandbox running")

    config = sub.add_parser("config", help="check, compare, activate and roll back the "
                            "routing YAML")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="print every problem; exit 0 only if valid")
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_CONFIG)
    diff = config_sub.add_parser("diff", help="what changes for callers and agents")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    activate = config_sub.add_parser("activate", help="make FILE the live version for "
                                     "every engine (refused if it has errors)")
    activate.add_argument("file", type=Path)
    activate.add_argument("--author", help="recorded with the version (default: $USER)")
    rollback = config_sub.add_parser("rollback", help="back to the previous live version")
    rollback.add_argument("--author")
    config_sub.add_parser("history", help="every activation and rollback")
    check.add_argument("--prompts-dir", type=Path,
                       help="also report prompts that have no audio in this folder")

    surveys = sub.add_parser("surveys", help="satisfaction callbacks")
    surveys_sub = surveys.add_subparsers(dest="surveys_command", required=True)
    surveys_sub.add_parser("report", help="satisfaction by queue, agent and day; attempt "
                           "and contact rates")

    add_recordings_parser(sub)
    add_queues_parser(sub)

    prompts = sub.add_parser("prompts", help="prompt audio")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    build = prompts_sub.add_parser("build", help="render every prompt text to 8 kHz audio "
                                   "(only what changed)")
    build.add_argument("--config", type=Path, default=None)
    build.add_argument("--dir", type=Path, default=None,
                       help="where Asterisk reads prompts (default: HOTLINE_PROMPTS_DIR)")

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if args.command == "recordings":
        return asyncio.run(recordings_command(args, settings))
    if args.command == "queues":
        return asyncio.run(queues_command(args, settings))
    if args.command == "surveys":
        return asyncio.run(surveys_report(settings))
    if args.command == "prompts":
        return prompts_build(args.config or settings.config_path, args.dir or settings.prompts_dir)
    if args.command == "config":
        return config_command(args, settings)
    if args.command == "demo":
        from hotline.dev.demo import run_demo

        if not args.verbose:
            logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(run_demo(keep=args.keep))
    if args.config:
        settings = replace(settings, config_path=args.config)
    if args.ami_host or args.ami_port:
        settings = replace(settings, ami=replace(
            settings.ami, host=args.ami_host or settings.ami.host,
            port=args.ami_port or settings.ami.port))
    if args.redis_url:
        settings = replace(settings, redis_url=args.redis_url)
    return asyncio.run(serve_forever(settings))


def config_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.config_command == "check":
        return config_check(args.file, args.prompts_dir)
    if args.config_command == "diff":
        return config_diff(args.old, args.new)
    if getattr(args, "author", None):
        settings = replace(settings, author=args.author)
    return asyncio.run(config_versions(args, settings))


def config_check(path: Path, prompts_dir: Path | None = None) -> int:
    from config.loader import check

    config, problems = check(path)
    for problem in problems:
        print(problem)
    errors = sum(p.severity == "error" for p in problems)
    if config is not None and not errors:
        warnings = len(problems)
        if prompts_dir is not None:
            from hotline.calls.prompt_audio import missing_audio

            for name, language in missing_audio(config, prompts_dir):
                print(f"{path}: warning: prompts.{name}: no {language} audio in {prompts_dir} "
                      "(run hotline prompts build)")
                warnings += 1
        print(f"{path}: valid, with {warnings} warning(s)" if warnings else f"{path}: valid")
        return 0
    print(f"{path}: {errors} error(s)")
    return 1


async def surveys_report(settings: Settings) -> int:
    import zoneinfo

    from config.loader import ConfigError, load
    from hotline.runtime.redis_client import connect
    from quality.reports import build, lines
    from quality.survey_jobs import SurveyJobs

    try:
        timezone = zoneinfo.ZoneInfo(load(settings.config_path).calendar.timezone)
    except ConfigError:
        timezone = zoneinfo.ZoneInfo("UTC")
    redis = connect(settings.redis_url)
    try:
        jobs, results = await SurveyJobs(redis, settings.key_prefix).everything()
    finally:
        await redis.aclose()
    for line in lines(build(jobs, results, timezone)):
        print(line)
    return 0


def prompts_build(config_path: Path, directory: Path) -> int:
    from config.loader import ConfigError, load
    from hotline.calls.prompt_audio import PromptBuildError, build_prompts

    try:
        rendered, fresh = build_prompts(load(config_path), directory)
    except (ConfigError, PromptBuildError) as exc:
        print(exc)
        return 1
    print(f"{rendered} rendered, {fresh} already up to date, in {directory}")
    return 0


def config_diff(old: Path, new: Path) -> int:
    from config.diff import describe_changes
    from config.loader import ConfigError, load

    try:
        before, after = load(old), load(new)
    except ConfigError as exc:
        print(exc)
        return 1
    changes = describe_changes(before, after)
    for line in changes:
        print(line)
    if not changes:
        print("no change for callers or agents")
    return 0


async def config_versions(args: argparse.Namespace, settings: Settings) -> int:
    from config.diff import describe_changes
    from config.loader import ConfigError, load_text
    from config.versions import ConfigVersions, NothingToRollBack
    from hotline.runtime.redis_client import connect

    redis = connect(settings.redis_url)
    versions = ConfigVersions(redis, settings.key_prefix, time.time)
    try:
        before = await versions.active()
        if args.config_command == "history":
            for entry in await versions.history():
                when = dt.datetime.fromtimestamp(float(str(entry["at"]))).isoformat(
                    sep=" ", timespec="seconds")
                print(f"{when}  {entry['what']:<8}  version {entry['version']}  "
                      f"by {entry['author']}  {str(entry['sha256'])[:12]}")
            return 0
        if args.config_command == "activate":
            try:
                text = args.file.read_text(encoding="utf-8")
                activation = await versions.activate(text, author=settings.author,
                                                     source=str(args.file))
            except ConfigError as exc:
                print(exc)
                print(f"{args.file}: not activated; version "
                      f"{before.number if before else 'none'} stays live")
                return 1
            except OSError as exc:
                print(f"{args.file}: cannot read the file: {exc}")
                return 1
            if not activation.changed:
                print(f"version {activation.version.number} is already live")
                return 0
            after = activation.version
        else:
            try:
                after = await versions.rollback(author=settings.author)
            except NothingToRollBack as exc:
                print(exc)
                return 1
        print(f"version {after.number} is live (by {settings.author})")
        if before is not None:
            old = load_text(before.text, before.source).config
            for line in describe_changes(old, load_text(after.text, after.source).config):
                print(f"  {line}")
        return 0
    finally:
        await redis.aclose()


async def serve_forever(settings: Settings) -> int:
    from config.loader import ConfigError
    from hotline.engine import Engine
    from hotline.runtime.redis_client import connect

    redis = connect(settings.redis_url)
    engine = Engine(settings, redis)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    reloads: set[asyncio.Task[bool]] = set()

    def reload_config() -> None:
        task = asyncio.ensure_future(engine.live.activate_file("SIGHUP"))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, reload_config)
    try:
        await engine.start(wait=None)  # AMI may come later: the engine keeps trying
    except ConfigError as exc:
        print(f"not starting: {settings.config_path} is invalid and no version is active"
              f"\n{exc}", file=sys.stderr)
        await redis.aclose()
        return 2
    log.info("serving calls with config version %s; AMI %s:%s, instance %s",
             engine.live.version, settings.ami.host, settings.ami.port, settings.instance_id)
    await stop.wait()
    log.info("stopping: calls in menus get %.0fs to finish", settings.shutdown_grace)
    await engine.stop()
    await redis.aclose()
    return 0

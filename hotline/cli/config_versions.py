"""`hotline config ...`: check, compare, activate and roll back the routing YAML. The
same functions every engine uses: an invalid version can never be activated."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from hotline.settings import DEFAULT_CONFIG, Settings


def add_config_parser(sub: Any) -> None:
    config = sub.add_parser("config", help="check, compare, activate and roll back the "
                            "routing YAML")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="print every problem; exit 0 only if valid")
    check.add_argument("file", type=Path, nargs="?", default=DEFAULT_CONFIG)
    check.add_argument("--prompts-dir", type=Path,
                       help="also report prompts that have no audio in this folder")
    diff = config_sub.add_parser("diff", help="what changes for callers and agents")
    diff.add_argument("old", type=Path)
    diff.add_argument("new", type=Path)
    diff.add_argument("--traffic", type=Path, help="also predict the effect on this traffic "
                      "(hotline simulate's file): SL and hang-ups per queue and tier")
    diff.add_argument("--seed", type=int, default=1)
    activate = config_sub.add_parser("activate", help="make FILE the live version for "
                                     "every engine (refused if it has errors)")
    activate.add_argument("file", type=Path)
    activate.add_argument("--author", help="recorded with the version (default: $USER)")
    rollback = config_sub.add_parser("rollback", help="back to the previous live version")
    rollback.add_argument("--author")
    config_sub.add_parser("history", help="every activation and rollback")


def config_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.config_command == "check":
        return config_check(args.file, args.prompts_dir)
    if args.config_command == "diff":
        return config_diff(args.old, args.new, args.traffic, args.seed, settings)
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


def config_diff(old: Path, new: Path, traffic: Path | None = None, seed: int = 1,
                settings: Settings | None = None) -> int:
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
    if traffic is not None:
        from hotline.cli.simulate import predicted_effect

        effect = predicted_effect(before, after, (old, new), traffic, seed,
                                  settings or Settings.from_env())
        if effect is None:
            return 1
        print(f"\nPredicted on the callers of {traffic} (seed {seed}):\n{effect}")
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

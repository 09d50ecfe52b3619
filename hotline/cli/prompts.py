"""`hotline prompts build`: every prompt's text rendered to audio Asterisk plays."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def add_prompts_parser(sub: Any) -> None:
    prompts = sub.add_parser("prompts", help="prompt audio")
    prompts_sub = prompts.add_subparsers(dest="prompts_command", required=True)
    build = prompts_sub.add_parser("build", help="render every prompt text to 8 kHz audio "
                                   "(only what changed)")
    build.add_argument("--config", type=Path, default=None)
    build.add_argument("--dir", type=Path, default=None,
                       help="where Asterisk reads prompts (default: HOTLINE_PROMPTS_DIR)")


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

"""`hotline prompts build`: every prompt's text rendered to audio Asterisk plays.

espeak-ng speaks (its `cmn` voice for Mandarin), sox makes 8 kHz mono WAV. A manifest
keeps the hash of what each file was rendered from, so only changed prompts are
rendered again. A prompt with a recorded `file` in the YAML is not rendered: the
recording wins.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from config.model import HotlineConfig
from ivr.spoken_words import WORDS

VOICES = {"zh": "cmn", "en": "en-us"}


class PromptBuildError(RuntimeError):
    pass


def build_prompts(config: HotlineConfig, directory: Path,
                  progress: Callable[[str], None] = print) -> tuple[int, int]:
    """Render what is missing or changed; returns (rendered, already up to date)."""
    for tool, package in (("espeak-ng", "espeak-ng"), ("sox", "sox")):
        if shutil.which(tool) is None:
            raise PromptBuildError(f"{tool} is missing: apt-get install -y {package}")
    manifest_path = directory / "manifest.json"
    try:
        manifest: dict[str, str] = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    jobs = [(name, lang, text) for name, prompt in config.prompts.items() if not prompt.file
            for lang, text in prompt.text.items()]
    # The words amounts and dates are said with (ivr.spoken_words), for each offered language.
    jobs += [(f"say/{word}", lang, text) for lang in config.languages.offered
             for word, text in WORDS.get(lang, {}).items()]
    rendered = fresh = 0
    for index, (name, lang, text) in enumerate(jobs, 1):
        target = directory / lang / f"{name}.wav"
        stamp = hashlib.sha256(f"{VOICES.get(lang, lang)}\0{text}".encode()).hexdigest()
        if manifest.get(f"{lang}/{name}") == stamp and target.exists():
            fresh += 1
            continue
        progress(f"[{index}/{len(jobs)}] {lang}/{name}")
        _render(text, VOICES.get(lang, lang), target)
        manifest[f"{lang}/{name}"] = stamp
        rendered += 1
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return rendered, fresh


def missing_audio(config: HotlineConfig, directory: Path) -> list[tuple[str, str]]:
    """(prompt, language) pairs with neither a recorded file nor a rendered one."""
    return [(name, lang) for name, prompt in config.prompts.items() if not prompt.file
            for lang in config.languages.offered
            if not (directory / lang / f"{name}.wav").exists()]


def _render(text: str, voice: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        spoken = Path(tmp) / "spoken.wav"
        for cmd in (["espeak-ng", "-v", voice, "-w", str(spoken), text],
                    ["sox", str(spoken), "-r", "8000", "-c", "1", "-b", "16",
                     str(target.with_suffix(".tmp.wav"))]):
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise PromptBuildError(f"{cmd[0]} failed for {target.name}: {proc.stderr}")
    target.with_suffix(".tmp.wav").replace(target)  # readers never see half a file

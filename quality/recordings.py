"""Whole-call recordings: where each file is filed, what it is, and whether it is what
the call needs.

The target is zero calls without a recording: every call's file is checked after the
hangup, and a missing, empty or short one raises an alarm and a counter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HEADER_BYTES = 44  # a WAV with no audio at all
# A stereo recording is made of the two sides MixMonitor writes beside the mixed file
# (its r() and t() options), put together when it is filed: channel 1 is what the
# caller says, channel 2 what the caller hears (prompts, the agent). Not MixMonitor's
# own interleaved stream (option D): on Asterisk 22 it comes out off-pitch on both
# sides once the bridge is wideband (an agent's phone on G.722).
SAID, HEARD = "-said", "-heard"
SELF_SERVICE = "self-service"  # the folder of calls that no queue took
CALLBACK_LEG = "callback"  # the index's `leg` of a customer's queue callback recording
_CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class RecordingFacts:
    path: str
    size: int
    duration: float  # seconds
    sha256: str


def recording_source(directory: str, now: float, name: str, fmt: str) -> tuple[str, str]:
    """Where Asterisk writes the recording `name` that starts at `now` (epoch seconds),
    in the folder of its day under `directory`, and MixMonitor's options for `fmt`
    (stereo: each side to a file of its own beside it)."""
    day = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
    base = f"{directory}/{day}/{name}"
    options = f"r({base}{SAID}.wav)t({base}{HEARD}.wav)" if fmt == "stereo" else ""
    return f"{base}.wav", options


def sides(source: Path) -> tuple[Path, Path]:
    """The files of a stereo recording's two sides, beside its mixed file."""
    return (source.with_name(f"{source.stem}{SAID}.wav"),
            source.with_name(f"{source.stem}{HEARD}.wav"))


def callback_recording_id(call_id: str, attempt: int) -> str:
    """The recording of the customer's leg of a queue callback (the call's `attempt`th
    callback): a file and an index entry of its own, linked to the call, and filed
    beside the call's recording."""
    return f"{call_id}-{CALLBACK_LEG}-{attempt}"


def filed_path(day: str, queue: str, call_id: str) -> str:
    """Where a finished recording lives under the recordings directory: a folder per
    day, then per queue, one file per call named from its id."""
    return f"{day}/{_UNSAFE.sub('_', queue) or SELF_SERVICE}/{_UNSAFE.sub('_', call_id)}.wav"


def file_away(source: Path, target: Path) -> RecordingFacts | None:
    """Move a closed recording to its filed place (a stereo recording's two sides
    become one stereo WAV on the way) and describe it; None when there is no file.
    The mixed source goes last: while it is there, the recording is not yet filed."""
    if not source.exists():
        return inspect(target)  # filed already, by an earlier attempt
    target.parent.mkdir(parents=True, exist_ok=True)
    said, heard = sides(source)
    partial = target.with_suffix(".partial")
    if said.exists() and heard.exists():
        _stereo_wav(said, heard, partial)
        os.replace(partial, target)
        for done in (said, heard, source):
            done.unlink()
    elif source.suffix == ".raw":  # the interleaved stream of a call begun before r()/t()
        _raw_stereo_wav(source, partial)
        os.replace(partial, target)
        source.unlink()
    else:
        os.replace(source, target)
    return inspect(target)


def _raw_stereo_wav(source: Path, target: Path) -> None:
    with source.open("rb") as raw, wave.open(str(target), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        while chunk := raw.read(_CHUNK):
            out.writeframes(chunk[: len(chunk) - len(chunk) % 4])  # whole frames only


def _stereo_wav(left: Path, right: Path, target: Path) -> None:
    """Two mono 16-bit WAVs as one stereo WAV, the shorter padded with silence. (WAV
    samples are little-endian, as `array` is on the machines Asterisk runs on.)"""
    frames = _CHUNK // 4
    with wave.open(str(left)) as one, wave.open(str(right)) as two, \
            wave.open(str(target), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(one.getframerate())
        while True:
            a, b = array("h", one.readframes(frames)), array("h", two.readframes(frames))
            if not a and not b:
                break
            size = max(len(a), len(b))
            a.extend(array("h", [0]) * (size - len(a)))
            b.extend(array("h", [0]) * (size - len(b)))
            both = array("h", [0]) * (2 * size)
            both[0::2], both[1::2] = a, b
            out.writeframes(both.tobytes())


def inspect(path: Path) -> RecordingFacts | None:
    """The file's size, length and checksum; None when there is no file."""
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("rb") as data:
            while chunk := data.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        return None
    try:
        with wave.open(str(path)) as audio:
            duration = audio.getnframes() / audio.getframerate()
    except (wave.Error, EOFError, ZeroDivisionError):
        duration = 0.0
    return RecordingFacts(str(path), size, duration, digest.hexdigest())


def verify(entry: dict[str, str]) -> list[str]:
    """Is the indexed file still there, and still the same bytes?"""
    facts = inspect(Path(entry.get("path", "")))
    if facts is None:
        return ["the file is gone"]
    if facts.sha256 != entry.get("sha256"):
        return ["the file changed since it was indexed (checksum differs)"]
    return []


def problems(facts: RecordingFacts | None, call_seconds: float,
             tolerance: float = 2.0) -> list[str]:
    """What is wrong with a call's recording; empty when it is whole."""
    if facts is None:
        return ["the recording file is missing"]
    if facts.size <= HEADER_BYTES:
        return ["the recording is empty"]
    if facts.duration + tolerance < call_seconds:
        return [f"the recording lasts {facts.duration:.1f}s of a {call_seconds:.1f}s call"]
    return []


def retention_cutoff_ms(now: float, retention_days: int) -> int:
    """Recordings of calls that ended before this are past their age."""
    return int((now - retention_days * 86400) * 1000)


def keeps(entry: dict[str, str], keep_flagged: bool) -> bool:
    """A recording flagged for a complaint or dispute outlives the retention period."""
    return keep_flagged and bool(entry.get("flagged"))


def mute_spans(steps: list[dict[str, Any]], start: int,
               end: int | None = None) -> list[tuple[float, float]]:
    """Where the recording was muted (a caller typing a secret), in seconds from its
    start, from the call's journal. A caller who hangs up in the middle of a PIN leaves
    the recording muted to its `end` (the hangup, in ms)."""
    spans, muted_at = [], None
    for step in steps:
        at = float(str(step["at"]))
        if step["command"] == "RECORDING MUTED":
            muted_at = at
        elif step["command"] == "RECORDING RESUMED" and muted_at is not None:
            spans.append(((muted_at - start) / 1000, (at - start) / 1000))
            muted_at = None
    if muted_at is not None and end is not None:
        spans.append(((muted_at - start) / 1000, (max(end, muted_at) - start) / 1000))
    return spans

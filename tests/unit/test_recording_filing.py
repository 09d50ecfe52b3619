"""Filing a closed recording: a stereo one's two sides become one two-channel WAV, a
mixed one is moved as it is."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

from quality.recordings import file_away, recording_source, sides


def mono(path: Path, samples: list[int]) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def test_a_stereo_recording_is_its_two_sides_side_by_side(tmp_path: Path) -> None:
    path, options = recording_source(str(tmp_path), 1_800_000_000, "c1", "stereo")
    source = Path(path)
    said, heard = sides(source)
    assert options == f"r({said})t({heard})"  # MixMonitor writes the sides there
    source.parent.mkdir(parents=True)
    mono(source, [7, 7, 7])  # the mixed file MixMonitor writes as well
    mono(said, [1, -2, 3])  # what the caller said
    mono(heard, [10, 20])  # what they heard, a frame shorter
    target = tmp_path / "filed" / "c1.wav"
    facts = file_away(source, target)
    assert facts is not None and facts.duration == 3 / 8000
    with wave.open(str(target)) as filed:
        assert (filed.getnchannels(), filed.getframerate()) == (2, 8000)
        assert struct.unpack("<6h", filed.readframes(3)) == (1, 10, -2, 20, 3, 0)
    assert not any(p.exists() for p in (source, said, heard))
    assert file_away(source, target) == facts  # filed already: described, not redone


def test_a_mixed_recording_is_moved_as_it_is(tmp_path: Path) -> None:
    path, options = recording_source(str(tmp_path), 1_800_000_000, "c2", "mixed")
    source = Path(path)
    assert options == ""
    source.parent.mkdir(parents=True)
    mono(source, [5, 6])
    target = tmp_path / "filed" / "c2.wav"
    file_away(source, target)
    with wave.open(str(target)) as filed:
        assert filed.getnchannels() == 1 and filed.readframes(2) == struct.pack("<2h", 5, 6)

"""Mutated copies of the example: the loader answers with a config or located
problems, never a traceback."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.loader import check_text

EXAMPLE = (Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml").read_text()
LINES = EXAMPLE.splitlines(keepends=True)

# Text that YAML and the contract find interesting: structure, types, names.
NOISE = st.sampled_from([
    ":", "- ", "  ", "\t", "{", "}", "[", "]", "'", '"', "#", "&a ", "*a", "!!int ", "~",
    "no", "yes", "1e9", "-1", "08:00-25:00", "kind: choice", "next: nowhere",
    "\x00", "\u2028", "张", "<<: *a", "? ", "%YAML 1.1\n", "---\n", "...\n", "\r\n",
])


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "swap", "poke", "indent", "dedent"]))
        if action == "drop":
            del lines[i]
        elif action == "dup":
            lines.insert(i, lines[i])
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif action == "poke":
            at = draw(st.integers(0, max(0, len(lines[i]) - 1)))
            lines[i] = lines[i][:at] + draw(NOISE) + lines[i][at + 1:]
        elif action == "indent":
            lines[i] = "  " + lines[i]
        else:
            lines[i] = lines[i].lstrip(" ")
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_give_a_config_or_located_problems(text: str) -> None:
    config, problems = check_text(text, "fuzz.yaml")
    if config is None:
        assert problems, "refused without saying why"
    line_count = text.count("\n") + 2
    for problem in problems:
        assert 1 <= problem.line <= line_count and problem.column >= 1
        assert problem.message and problem.file == "fuzz.yaml"

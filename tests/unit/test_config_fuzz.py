"""Mutated copies of the example: the loader answers with a config or located
problems, never a traceback. Mutations also share values: anchors on values and
sections, aliases in their place (some of them before the anchor, or inside it), and
merge keys."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.loader import check_text

EXAMPLE = (Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml").read_text()
LINES = EXAMPLE.splitlines(keepends=True)

# Text that YAML and the contract find interesting: structure, types, names.
NOISE_TEXTS = [
    ":", "- ", "  ", "\t", "{", "}", "[", "]", "'", '"', "#", "&a ", "*a", "!!int ", "~",
    "no", "yes", "1e9", "-1", "08:00-25:00", "kind: choice", "next: nowhere",
    "\x00", "\u2028", "张", "<<: *a", "? ", "%YAML 1.1\n", "---\n", "...\n", "\r\n",
]
NOISE = st.sampled_from(NOISE_TEXTS)
ANCHOR = st.sampled_from(["a", "b"])


def _share(line: str, action: str, name: str) -> str:
    """An anchor on the line's value (or section), or an alias or merge in its place."""
    indent = line[:len(line) - len(line.lstrip(" "))]
    key, colon, value = line.partition(": ")
    if action == "anchor":
        if line.rstrip().endswith(":"):
            return f"{line.rstrip()} &{name}\n"
        return f"{key}: &{name} {value}" if colon else line
    if action == "alias":
        return f"{key}: *{name}\n" if colon else f"{indent}- *{name}\n"
    if action == "merge":
        return f"{indent}<<: *{name}\n{line}"
    return f"{indent}<<: [*{name}, *{name}]\n{line}"  # two merges of the same mapping


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "swap", "poke", "indent", "dedent",
                                       "anchor", "alias", "merge", "merges"]))
        if action in ("anchor", "alias", "merge", "merges"):
            lines[i] = _share(lines[i], action, draw(ANCHOR))
        elif action == "drop":
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


def test_mutations_read_the_same_with_both_parsers() -> None:
    """A few seeded mutations (the pure-Python parser is slow). '? ' inside a flow
    mapping's value is left out: libyaml reads it as text, PyYAML as a key."""
    rng = random.Random(7)
    noise = [n for n in NOISE_TEXTS if n != "? "]
    actions = ["poke", "indent", "dedent", "anchor", "alias", "merge", "merges"]
    for _ in range(30):
        lines = list(LINES)
        for _ in range(3):
            i = rng.randrange(len(lines))
            action = rng.choice(actions)
            if action == "poke":
                at = rng.randrange(max(1, len(lines[i])))
                lines[i] = lines[i][:at] + rng.choice(noise) + lines[i][at + 1:]
            elif action == "indent":
                lines[i] = "  " + lines[i]
            elif action == "dedent":
                lines[i] = lines[i].lstrip(" ")
            else:
                lines[i] = _share(lines[i], action, rng.choice("ab"))
        text = "".join(lines)
        assert check_text(text, "fuzz.yaml", loader="python")[1] == \
            check_text(text, "fuzz.yaml", loader="libyaml")[1], text

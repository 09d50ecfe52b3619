"""Reading the routing YAML: both parsers read alike, aliases are bounded, merge keys
follow YAML's rule, and a broken text gets one located message in plain words."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from config.loader import check, check_text
from config.menus import Choice
from config.yaml_source import ALIAS_BUDGET, LOADERS, YamlSyntaxError, read

FILES = Path(__file__).resolve().parents[1] / "data" / "config"
EXAMPLE = (FILES / "example.yaml").read_text()
BOTH = tuple(LOADERS)  # "libyaml" and "python"


def edited(*edits: tuple[str, str]) -> str:
    text = EXAMPLE
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def problems(text: str, loader: str = "libyaml") -> list[str]:
    return [str(p) for p in check_text(text, "t.yaml", loader=loader)[1]]


def alias_bomb(levels: int = 9) -> str:
    """Nine levels of nine: 9**9 copies of `x` if the aliases were copied out."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefghi", "bcdefghi"[:levels - 1], strict=False):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return EXAMPLE + "\n".join(lines) + "\n"


def test_both_parsers_read_nulls_alike() -> None:
    text = edited(
        ("backends:\n", "fallback: null\nbackends:\n"),
        ("    invalid: invalid_choice\n    no_input: no_input\n    # After",
         "    invalid:\n    no_input: no_input\n    # After"),
        ("    - date: 2026-10-01\n      name: National Day\n      hours: [09:00-12:00]\n"
         "    - date: 2027-02-06\n      name: Spring Festival eve\n      hours: []\n",
         "    # - date: 2026-10-01\n    #   name: National Day\n"),
        ("      en: Hello, and welcome to the customer hotline.\n",
         "      en: Hello, and welcome to the customer hotline.\n    file: ~\n"),
    )
    for loader in BOTH:
        config, found = check_text(text, loader=loader)
        assert config is not None and found == [], (loader, found)
        assert config.fallback is None and config.prompts["welcome"].file is None
        main = config.menus["main"]
        assert config.calendar.holidays == [] and isinstance(main, Choice) and main.invalid is None
    quoted = read("a: '~'\nb: !!str null\nc: \"\"\nd: NULL\ne: !!null x\n", "python").data
    for loader in BOTH:
        assert read("a: '~'\nb: !!str null\nc: \"\"\nd: NULL\ne: !!null x\n", loader).data \
            == quoted == {"a": "~", "b": "null", "c": "", "d": None, "e": None}


def test_both_parsers_give_the_same_problems() -> None:
    broken = [
        edited(("  start: main\n", "  start: main\n\t\n  x: 1\n")),
        edited(('      "1": balance\n', '      *: balance\n')),
        edited(("  rate: 0.10", "  rate: often")),
        edited(("    timeout: 5s\n", "    timeout: 0\n    fallback: ~\n")),
        edited(("version: 1\n", "version: 1\n---\n")),
        alias_bomb(),
        "a: &a [*a]\n",
    ]
    for text in broken:
        assert problems(text, "libyaml") == problems(text, "python") != []


def test_an_alias_bomb_is_refused_at_once_with_a_located_error() -> None:
    text = alias_bomb()
    assert 12_000 < len(text.encode()) < 14_000
    tracemalloc.start()
    try:
        found = problems(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    bomb_line = EXAMPLE.count("\n") + 5  # level e: 9**4 * 10 values passes the budget
    assert found == [f"t.yaml:{bomb_line}:12: error: too many repeated values: with '*d' "
                     "(7,381 values, aliases inside it multiplied out), aliases repeat 23,051 "
                     f"values, more than the {ALIAS_BUDGET:,} a routing file may repeat (an "
                     "alias bomb?); write the values out, or nest fewer aliases"]
    assert peak < 20_000_000, peak  # far from the gigabytes a copied-out bomb needs


def test_an_anchor_inside_itself_or_missing_is_a_located_error() -> None:
    for loader in BOTH:
        assert problems("name: &a [*a]\n", loader) == [
            "t.yaml:1:11: error: '*a' is inside the value anchored '&a' itself, so it would "
            "repeat itself forever: an alias can only repeat a value that is complete"]
        assert problems("a: {b: &b {c: *b}}\n", loader)[0].startswith("t.yaml:1:15: error:")
        assert problems("a: *zz\n", loader) == [
            "t.yaml:1:4: error: '*zz' repeats an anchor '&zz' that is not defined above it: "
            "write '&zz' on the value to repeat, before this line, or check the spelling"]


def test_shared_values_work_and_errors_point_where_the_value_is_written() -> None:
    text = edited(("    wrap_up: 15s\n  \"1002\"", "    wrap_up: &w 15q\n  \"1002\""),
                  ("    wrap_up: 20s\n", "    wrap_up: *w\n"))
    line = EXAMPLE.splitlines().index("    wrap_up: 15s") + 1
    for loader in BOTH:  # one mistake, written once: one message, where it is written
        assert [p.split(": error: ")[0] for p in problems(text, loader)] == [f"t.yaml:{line}:14"]
    skills = edited(("    skills: {billing: 9, general: 8, english: 6}",
                     "    skills: &s {billing: 9, general: 8, english: 6, biling: 2}"),
                    ("    skills: {fault: 9, installation: 7, general: 5}", "    skills: *s"))
    line = EXAMPLE.splitlines().index("    skills: {billing: 9, general: 8, english: 6}") + 1
    assert problems(skills) == [f"t.yaml:{line}:53: error: agents.1001.skills.biling: "
                                "unknown skill 'biling'; did you mean 'billing'?"]


def test_merge_keys_follow_yaml_explicit_keys_win() -> None:
    text = "d: &d {x: 1, y: 2}\ne: &e {y: 3, z: 4}\nm:\n  y: 9\n  <<: [*d, *e]\n  w: 0\n"
    for loader in BOTH:
        source = read(text, loader)
        assert source.data["m"] == {"y": "9", "x": "1", "z": "4", "w": "0"}
        assert list(source.data["m"]) == ["y", "x", "z", "w"]
        assert source.position(("m", "x"), at_key=True) == (1, 8)  # where x is written
        assert source.position(("m", "z")) == (2, 17)
        assert source.position(("m", "y")) == (4, 6)
    queue = edited(("  fault_report:\n    name:", "  fault_report: &fq\n    name:"),
                   ("  complaints:\n    name:", "  complaints:\n    <<: *fq\n    name:"))
    config, found = check_text(queue)
    assert config is not None and found == []
    complaints, fault = config.queues["complaints"], config.queues["fault_report"]
    assert complaints.name == "Complaints" and complaints.overflow == fault.overflow
    assert complaints.max_wait is not None and complaints.max_wait.after == 300


def test_a_merge_of_something_else_than_a_mapping_says_so() -> None:
    for text, line in (("a: &a x\nb: {<<: *a}\n", 2), ("b: {<<: [1]}\n", 1),
                       ("b:\n  <<: {}\n  <<: {}\n", 3)):
        with pytest.raises(YamlSyntaxError) as raised:
            read(text)
        assert "'<<'" in raised.value.problem.message
        assert raised.value.problem.line == line


@pytest.mark.parametrize(("edit", "expected"), [
    (("  start: main\n", "\tstart: main\n"),
     "14:1: error: a tab is used for indentation here: YAML indents with spaces only; "
     "replace the tab with spaces"),
    (('      "1": balance\n', '      *: balance\n'),
     "184:7: error: '*' starts an alias in YAML: to mean the key or value *, quote it: \"*\""),
    (("  start: main\n", "  start\uff1a main\n"),
     "14:8: error: 'start' is followed by a full-width colon '\uff1a': YAML needs the plain "
     "colon ':' and a space (switch the input method to half-width): write 'start: '"),
    (("  start: main\n", "  start: main\x00\n"),
     "14:14: error: a NUL character (\\x00) is here, which a text file never holds: the file "
     "is damaged or was saved as something other than text; delete the character, or save "
     "the file again as UTF-8 text"),
    (("version: 1\n", "version: 1\n---\n"),
     "9:1: error: a second document starts here: a routing file holds one document; delete "
     "this '---' and what follows it, or merge it into the first"),
    (("  start: main\n", "  start: main\u00a0\n"),
     "14:10: error: numbers.start: 'main\\u00a0' is not allowed here (a name: a letter, then "
     "letters, digits, _ or -) (\\u00a0 is a no-break space, which looks like a space or "
     "nothing at all: delete it, and type a plain space where one is needed)"),
    (("    skills: {general: 6}\n", "    skills: {gene\u200bral: 6}\n"),
     "366:14: error: queues.general.skills.gene\\u200bral: 'gene\\u200bral' is not allowed "
     "here (a name: a letter, then letters, digits, _ or -) (\\u200b is a zero width space, "
     "which looks like a space or nothing at all: delete it, and type a plain space where "
     "one is needed)"),
    (("  billing: {kind: redis}", "  billing: {kind: http, url: billing.local/api}"),
     "437:30: error: backends.billing.url: 'billing.local/api' is not a full web address: it "
     "must start with https:// (or http://); write it like https://billing.example.com/api"),
    (("  - callers: _1990000XXXX", "  - callers: 1990000XXXX"),
     "24:14: error: caller_routes[0].callers: '1990000XXXX' is not allowed here (a caller "
     "pattern: _ then digits, X for any digit, Z for 1-9, N for 2-9, [1-5] for a range, and "
     ". at the end for any more digits, e.g. _1990000XXXX)"),
])
def test_a_supervisor_reads_what_happened_and_how_to_fix_it(
        edit: tuple[str, str], expected: str) -> None:
    for loader in BOTH:
        assert problems(edited(edit), loader) == [f"t.yaml:{expected}"]


def test_every_pattern_of_the_contract_is_said_in_words() -> None:
    from config.model import HotlineConfig
    from config.wording import PATTERN_WORDS

    def patterns(schema: object) -> set[str]:
        if isinstance(schema, dict):
            found = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
            return found.union(*(patterns(v) for v in schema.values()))
        if isinstance(schema, list | tuple):
            return set().union(*(patterns(v) for v in schema))
        return set()

    assert patterns(HotlineConfig.__pydantic_core_schema__) == set(PATTERN_WORDS)


def test_a_file_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes(EXAMPLE.encode("gb18030"))
    line = next(i for i, text in enumerate(EXAMPLE.splitlines(), 1) if not text.isascii())
    assert [str(p) for p in check(gbk)[1]] == [
        f"{gbk}:{line}:11: error: this line is not UTF-8 text (byte 0xc4; the file looks like "
        "GBK/GB18030, a Chinese encoding): save the file as UTF-8 and check it again"]
    crlf = tmp_path / "crlf.yaml"
    crlf.write_bytes(("\ufeff" + EXAMPLE.replace("\n", "\r\n")).encode())
    assert check(crlf)[1] == []

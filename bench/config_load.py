"""How long loading the routing YAML takes: the example, a large generated hotline, and
the example with an alias bomb under it.

    python bench/config_load.py [--repeat 7]

Loading is the whole path a supervisor's change goes through: read, validate every
section, cross-check. The large file has 2,000 agents, 200 queues (each with its own
menu node and relax steps) and 50 skills. The alias bomb is nine levels of nine
aliases (9**9 values if copied out; 12.7 KB with the example); the checker must refuse
it with a located error. Its peak memory is tracemalloc's peak for one check, and, as a
cross-check, the growth of a fresh child process's peak resident size. Medians of
`--repeat` runs; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.loader import check_text, load_text

ROOT = Path(__file__).resolve().parent.parent

EXAMPLE = ROOT / "config" / "hotline.yaml"


def large_hotline(agents: int = 2000, queues: int = 200, skills: int = 50) -> str:
    out = [
        "numbers:", '  unified: "10000"', "  start: main",
        "calendar:", "  hours:", "    mon: [08:00-20:00]",
        "languages:", "  default: zh", "  offered: [zh, en]",
        "prompts:", "  menu:", "    text:", "      zh: 请选择。", "      en: Please choose.",
        "menus:", "  main:", "    kind: choice", "    prompt: menu", "    keys:",
    ]
    out += [f'      "{k}": pick_{k}' for k in range(10)]
    for k in range(10):  # ten second-level menus with a "more" page: 20 queues each
        out += [f"  pick_{k}:", "    kind: choice", "    prompt: menu", "    keys:"]
        out += [f'      "{d}": q{k * 20 + d}_node' for d in range(10)]
        out += [f'      "*": more_{k}']
        out += [f"  more_{k}:", "    kind: choice", "    prompt: menu", "    keys:"]
        out += [f'      "{d}": q{k * 20 + 10 + d}_node' for d in range(10)]
    for q in range(queues):
        out += [f"  q{q}_node:", "    kind: queue", f"    queue: q{q}"]
    out += ["skills:"] + [f"  s{s}: {{name: Skill {s}}}" for s in range(skills)]
    out += ["agents:"]
    for a in range(agents):
        out += [f'  "{5000 + a}":', f"    name: Agent {a}", f"    endpoint: PJSIP/agent-{a}",
                f"    skills: {{s{a % skills}: {a % 10 + 1}, s{(a + 7) % skills}: 6}}",
                "    wrap_up: 15s"]
    out += ["queues:"]
    for q in range(queues):
        out += [f"  q{q}:", f"    name: Queue {q}", f"    skills: {{s{q % skills}: 7}}",
                "    relax:", "      - after: 30s", "        min_proficiency: 4",
                "      - after: 90s", "        min_proficiency: 1",
                "    max_wait: {after: 5m, then: callback}"]
        if q:  # every queue overflows into the first, which overflows nowhere
            out += ["    overflow: {after: 2m, to: q0}"]
    out += ["vip:", "  tiers:", "    gold: {priority: 200, max_wait: 40s}",
            "    normal: {priority: 0, max_wait: 5m}",
            "sampling:", "  rate: 0.1", "  survey: main"]
    return "\n".join(out) + "\n"


def alias_bomb(example: str) -> str:
    """The example, then `a: &a [x, ...]` and eight levels of nine aliases each."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    return example + "\n".join(lines) + "\n"


def bomb_ms(text: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        config, problems = check_text(text, "bomb.yaml")
        times.append((time.perf_counter() - start) * 1000)
        assert config is None and len(problems) == 1 and problems[0].line > 1, problems
    return times


def bomb_peak_mb(text: str) -> float:
    """tracemalloc's peak over one check (the imports and the text are made before)."""
    check_text(text, "bomb.yaml")  # warm: caches filled as in a running checker
    tracemalloc.start()
    try:
        check_text(text, "bomb.yaml")
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


_CHILD = """
import resource, sys
sys.path.insert(0, sys.argv[1])
from config.loader import check_text
text = sys.stdin.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
check_text(text, "bomb.yaml")
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, after)
"""


def child_rss_growth_mb(text: str) -> tuple[float, float]:
    """(peak resident size after the check, its growth during the check), in MB, of a
    fresh interpreter that only imports the checker and checks the bomb."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT)], input=text, text=True,
                         capture_output=True, check=True).stdout.split()
    scale = 1024 if sys.platform != "darwin" else 1  # ru_maxrss: KiB on Linux
    before, after = (int(v) * scale / 1e6 for v in out)
    return after, after - before


def median_ms(text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        loaded = load_text(text, "bench.yaml")
        times.append((time.perf_counter() - start) * 1000)
    assert not loaded.warnings, loaded.warnings[:3]
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    example = EXAMPLE.read_text()
    large = large_hotline()
    example_ms = median_ms(example, args.repeat)
    large_ms = median_ms(large, args.repeat)
    print(f"example: {len(example.splitlines())} lines, {example_ms:.1f} ms (target < 50 ms)")
    print(f"large: {len(large.splitlines())} lines, 2,000 agents, 200 queues, "
          f"{large_ms:.0f} ms (target < 1,000 ms)")
    bomb = alias_bomb(example)
    times = bomb_ms(bomb, args.repeat)
    bomb_median = statistics.median(times)
    peak = bomb_peak_mb(bomb)
    rss, growth = child_rss_growth_mb(bomb)
    print(f"alias bomb: {len(bomb.encode()) / 1000:.1f} KB, refused with a located error in "
          f"{bomb_median:.2f} ms (range {min(times):.2f}-{max(times):.2f}; target < 1,000 ms), "
          f"peak {peak:.2f} MB traced (target < 100 MB); a fresh process peaks at "
          f"{rss:.0f} MB resident, {growth:.1f} MB of it during the check")
    print(json.dumps({"example_ms": round(example_ms, 2), "large_ms": round(large_ms, 1),
                      "alias_bomb_ms": round(bomb_median, 2),
                      "alias_bomb_peak_mb": round(peak, 2)}))


if __name__ == "__main__":
    main()

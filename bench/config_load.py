"""How long loading the routing YAML takes: the example, and a large generated hotline.

    python bench/config_load.py [--repeat 7]

Loading is the whole path a supervisor's change goes through: read, validate every
section, cross-check. The large file has 2,000 agents, 200 queues (each with its own
menu node and relax steps) and 50 skills. Medians of `--repeat` runs; last line JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config.loader import load_text

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "hotline.yaml"


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
                f"    overflow: {{after: 2m, to: q{(q + 1) % queues}}}",
                "    max_wait: {after: 5m, then: callback}"]
    out += ["vip:", "  tiers:", "    gold: {priority: 200, max_wait: 40s}",
            "    normal: {priority: 0, max_wait: 5m}",
            "sampling:", "  rate: 0.1", "  survey: main"]
    return "\n".join(out) + "\n"


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
    print(json.dumps({"example_ms": round(example_ms, 2), "large_ms": round(large_ms, 1)}))


if __name__ == "__main__":
    main()

"""Mutation score of the pure domain modules against the fast unit suite.

    pip install -e '.[test]'        # mutmut among the test extras
    python bench/mutation.py [--keep] [--max-children N]

Runs mutmut for real (`mutmut run`, then `mutmut results --all true` and `mutmut show`).
What is mutated, and which tests run, is the `[mutmut]` section of setup.cfg: the pure
modules of agents/, routing/, quality/ and ivr/, against `tests/unit` without the Asterisk
and Redis tests. mutmut copies the tree into `mutants/` (gitignored) and works there.

By default `mutants/` is removed first, so the figure is about the tests and code as they
are now; `--keep` lets mutmut reuse its earlier results for functions that did not change.

Each surviving mutant is printed (module, function, the diff); the last line is JSON:
{"mutants": N, "killed": N, "score": F}, score = killed / mutants.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "mutants"

# Detected: mutmut's own score (its `badge` command) counts a timeout as a kill, and so do
# we; a mutant the type checker caught never ran but was caught all the same. Everything
# else counts as survived: "survived", "no tests" (no test even reaches the code),
# "skipped", "suspicious", "segfault", and "not checked" (the run did not get to it).
DETECTED = frozenset({"killed", "timeout", "caught by type check"})

_RESULT = re.compile(r"^\s*(?P<name>\S+__mutmut_\d+): (?P<status>.+?)\s*$")


@dataclass(frozen=True, slots=True)
class Mutant:
    name: str  # e.g. routing.decide.x_pick_agent__mutmut_3
    status: str

    @property
    def module(self) -> str:
        return self.name.rsplit(".", 1)[0] if "." in self.name else "?"

    @property
    def function(self) -> str:
        """`pick_agent`, or `FreeAgents.add` for a method (mutmut writes xǁClassǁmethod)."""
        mangled = self.name.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
        if mangled.startswith("xǁ"):
            return ".".join(part for part in mangled[2:].split("ǁ") if part)
        return mangled.removeprefix("x_")


def mutmut(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """One mutmut command, run from the project's root with this interpreter's mutmut."""
    exe = Path(sys.executable).with_name("mutmut")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "mutmut"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def parse_results(text: str) -> list[Mutant]:
    found = (_RESULT.match(line) for line in text.splitlines())
    return [Mutant(m["name"], m["status"]) for m in found if m]


def diff_of(mutant: Mutant) -> str:
    shown = mutmut("show", mutant.name, timeout=120)
    if shown.returncode != 0:
        return f"(mutmut show failed: {shown.stderr.strip().splitlines()[-1:]})"
    lines = [line for line in shown.stdout.splitlines() if not line.startswith("# ")]
    return "\n".join(lines).strip() or "(no diff)"


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true",
                        help="reuse mutants/ and mutmut's earlier results")
    parser.add_argument("--max-children", type=int, default=None,
                        help="mutmut's worker processes (default: one per CPU)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    if not args.keep and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    run_args = ["run"] + ([f"--max-children={args.max_children}"] if args.max_children else [])
    try:
        run = mutmut(*run_args, timeout=3600)
        problem = "" if run.returncode == 0 else (
            f"mutmut run exited {run.returncode}:\n{tail(run.stdout + run.stderr)}")
    except (OSError, subprocess.TimeoutExpired) as error:
        problem = f"mutmut run could not finish: {error}"
    run_seconds = time.monotonic() - started

    mutants: list[Mutant] = []
    if not problem:
        listed = mutmut("results", "--all", "true", timeout=600)
        mutants = parse_results(listed.stdout)
        if listed.returncode != 0 or not mutants:
            problem = (f"mutmut results exited {listed.returncode} and listed "
                       f"{len(mutants)} mutants:\n{tail(listed.stdout + listed.stderr)}")
    if problem:
        print(problem, file=sys.stderr)

    survivors = sorted((m for m in mutants if m.status not in DETECTED), key=lambda m: m.name)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        diffs = list(pool.map(diff_of, survivors))
    for mutant, diff in zip(survivors, diffs, strict=True):
        print(f"== {mutant.module} {mutant.function} ({mutant.status}): {mutant.name}")
        print(diff)
        print()

    statuses = Counter(m.status for m in mutants)
    by_module = Counter(m.module for m in survivors)
    print("statuses: " + ", ".join(f"{s} {n}" for s, n in sorted(statuses.items())))
    print("survivors by module: "
          + (", ".join(f"{mod} {n}" for mod, n in sorted(by_module.items())) or "none"))
    print(f"mutmut run took {run_seconds:.1f} s, {time.monotonic() - started:.1f} s in all")

    killed = sum(1 for m in mutants if m.status in DETECTED)
    score = killed / len(mutants) if mutants else 0.0
    print(json.dumps({"mutants": len(mutants), "killed": killed, "score": round(score, 4)}))
    return 1 if problem else 0


if __name__ == "__main__":
    sys.exit(main())

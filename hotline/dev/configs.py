"""Pieces of routing YAML that tests, benchmarks and the demo share."""

from __future__ import annotations

# Open at every hour of every day: a load or a test never meets closed hours.
OPEN_ALL_WEEK = "calendar:\n  hours:\n" + "".join(
    f"    {day}: [00:00-24:00]\n" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

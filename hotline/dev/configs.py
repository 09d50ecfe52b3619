"""Pieces of routing YAML that tests, benchmarks and the demo share."""

from __future__ import annotations

# Open at every hour of every day: a load or a test never meets closed hours.
OPEN_ALL_WEEK = "calendar:\n  hours:\n" + "".join(
    f"    {day}: [00:00-24:00]\n" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


def one_skill_hotline(agents: int, tiers: str = "    normal: {priority: 0, max_wait: 3600s}\n",
                      aging: float = 0.0, *, endpoint: str = "PJSIP/a{i}",
                      answered_within: float = 20.0) -> str:
    """Every caller to one queue of one skill, served first come first served by
    `agents` alike agents with no wrap-up: the M/M/c of the textbooks (with `tiers`,
    the YAML lines of the VIP tiers, four spaces in). `endpoint`: agent i's phone."""
    rows = "".join(f'  "a{i}": {{name: A{i}, endpoint: {endpoint.format(i=i)}, '
                   "skills: {talk: 5}, wrap_up: 0s}\n" for i in range(agents))
    return f"""numbers: {{unified: "10000", start: main}}
{OPEN_ALL_WEEK}languages: {{default: zh, offered: [zh]}}
prompts: {{menu: {{text: {{zh: 请稍候。}}}}}}
menus: {{main: {{kind: queue, queue: talk}}}}
skills: {{talk: {{name: Talk}}}}
agents:
{rows}queues:
  talk: {{name: Talk, skills: {{talk: 1}}, strategy: longest_idle,
         service_level: {{answered_within: {answered_within:g}s}}}}
vip:
  aging: {aging}
  tiers:
{tiers}sampling: {{rate: 0.0, survey: main}}
"""

"""The wallboard's last hour, minute by minute: service level and callers waiting. Pure.

The web process notes the floor once a minute into Redis (`web.live`): the day's
counters and the callers waiting, summed over the queues. A minute's service level is
what was answered in it, from the difference of two notes; a minute without its note
(no web process was running) is a gap, never a guess. Drawn as inline SVG: no script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from html import escape

from web.floor import Floor, Minute

MINUTES = 60
NOTE_KEPT = 2 * 3600  # seconds a minute's note stays in Redis


def note(board: Floor) -> str:
    """The floor summed over its queues, as stored for its minute."""
    rows = [r for r in board.rows if r.tier == "all"]
    return json.dumps({"answered": sum(r.figures.answered for r in rows),
                       "answered_in_sl": sum(r.figures.answered_in_sl for r in rows),
                       "waiting": sum(r.waiting for r in rows)})


def last_hour(notes: Mapping[int, str], now_minute: int) -> list[Minute]:
    """`notes`: minute -> `note`; the hour up to `now_minute`, oldest first."""
    parsed = {m: json.loads(text) for m, text in notes.items() if text}
    points = []
    for minute in range(now_minute - MINUTES + 1, now_minute + 1):
        here, before = parsed.get(minute), parsed.get(minute - 1)
        sl = None
        if here is not None and before is not None:
            answered = here["answered"] - before["answered"]
            within = here["answered_in_sl"] - before["answered_in_sl"]
            if answered > 0 and within >= 0:  # below zero: the day's counters began again
                sl = within / answered
        points.append(Minute(minute, sl, None if here is None else int(here["waiting"])))
    return points


def chart_svg(points: list[Minute], target: float, title: str, sl_label: str,
              waiting_label: str, width: int = 600, height: int = 120) -> str:
    """Waiting as bars (right scale), the service level as a line (left, 0-100%), the
    target as a dashed line."""
    most = max([p.waiting or 0 for p in points] + [1])
    step = width / max(1, len(points))
    bars, dots = [], []
    lines: list[list[str]] = [[]]  # the service level's line, broken at every gap
    for n, p in enumerate(points):
        x = n * step
        if p.waiting:
            h = p.waiting / most * (height - 10)
            bars.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{step * 0.8:.1f}" '
                        f'height="{h:.1f}" class="bar"><title>{p.waiting}</title></rect>')
        if p.service_level is None:
            if lines[-1]:
                lines.append([])
        else:
            y = height - p.service_level * (height - 10)
            lines[-1].append(f"{x + step / 2:.1f},{y:.1f}")
            dots.append(f'<circle cx="{x + step / 2:.1f}" cy="{y:.1f}" r="2" class="dot">'
                        f"<title>{p.service_level:.0%}</title></circle>")
    target_y = height - target * (height - 10)
    return (f'<figure class="chart"><figcaption>{escape(title)}: '
            f'<span class="key sl">{escape(sl_label)}</span> '
            f'<span class="key waiting">{escape(waiting_label)} (≤{most})</span></figcaption>'
            f'<svg viewBox="0 0 {width} {height}" width="100%" height="{height}" role="img" '
            f'preserveAspectRatio="none">'
            f'{"".join(bars)}<line x1="0" x2="{width}" y1="{target_y:.1f}" y2="{target_y:.1f}"'
            f' class="target"/>'
            + "".join(f'<polyline points="{" ".join(part)}" class="sl"/>'
                      for part in lines if len(part) > 1)
            + f'{"".join(dots)}</svg></figure>')

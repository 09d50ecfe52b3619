"""The SL-by-interval chart of `hotline simulate --chart FILE.svg`: one line per queue
(the callers arriving in each interval), the target dashed. Plain SVG, no library."""

from __future__ import annotations

from html import escape

from config.model import HotlineConfig
from routing.simulation import Result

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 900, 360, 50, 20, 40
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf"]


def sl_chart(config: HotlineConfig, result: Result, title: str) -> str:
    intervals = 1 + max((n for _, n in result.by_interval), default=0)
    plot_w, plot_h = WIDTH - LEFT - 160, HEIGHT - TOP - BOTTOM

    def x(n: int) -> float:
        return LEFT + plot_w * (n + 0.5) / intervals

    def y(share: float) -> float:
        return TOP + plot_h * (1 - share)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'font-family="sans-serif" font-size="12"><title>{escape(title)}</title>',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
             'stroke="#999"/>']
    for share in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{LEFT - 6}" y="{y(share) + 4:.1f}" text-anchor="end">'
                     f"{share:.0%}</text>")
    for n in range(0, intervals, max(1, intervals // 8)):
        hours = n * result.interval / 3600
        parts.append(f'<text x="{x(n):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                     f"{int(hours):02d}:{int(hours % 1 * 60):02d}</text>")
    queues = sorted({q for q, _ in result.by_interval})
    for i, queue in enumerate(queues):
        colour = COLOURS[i % len(COLOURS)]
        points = [(x(n), y(f.service_level)) for (q, n), f in sorted(result.by_interval.items())
                  if q == queue and f.service_level is not None]
        line = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        target = config.queues[queue].service_level.target
        parts += [f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>',
                  f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(target):.1f}" '
                  f'y2="{y(target):.1f}" stroke="{colour}" stroke-dasharray="4 4" '
                  'stroke-width="1"/>',
                  f'<text x="{LEFT + plot_w + 10}" y="{TOP + 16 * (i + 1)}" fill="{colour}">'
                  f"{escape(queue)}</text>"]
    parts.append("</svg>")
    return "".join(parts)

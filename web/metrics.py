"""`/metrics` for Prometheus, written with prometheus-client from one reading of the
floor. Every figure comes from Redis, which all engines share, so a counter is the
hotline's, counted once however many engines or web processes there are.

The day's counters start again at midnight in the hotline's time zone; Prometheus's
`rate()` and `increase()` take that as a counter reset, which they handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from web.floor import Floor


class _FloorCollector(Collector):
    def __init__(self, board: Floor, now: float, engines: Mapping[str, bool],
                 redis_up: bool, live_connected: bool) -> None:
        self.board, self.now = board, now
        self.engines, self.redis_up, self.live_connected = engines, redis_up, live_connected

    def collect(self) -> Iterable[CounterMetricFamily | GaugeMetricFamily]:
        labels = ["queue", "tier"]
        offered = CounterMetricFamily("hotline_calls_offered", "Callers who entered the "
                                      "queue today", labels=labels)
        answered = CounterMetricFamily("hotline_calls_answered", "Callers answered by an "
                                       "agent today", labels=labels)
        abandoned = CounterMetricFamily("hotline_calls_abandoned", "Callers who hung up "
                                        "while waiting today", labels=labels)
        waiting = GaugeMetricFamily("hotline_callers_waiting", "Callers waiting now",
                                    labels=labels)
        longest = GaugeMetricFamily("hotline_longest_wait_seconds", "How long the caller "
                                    "waiting longest has waited", labels=labels)
        sl = GaugeMetricFamily("hotline_service_level", "Today's share answered within the "
                               "queue's threshold, of those answered", labels=labels)
        target = GaugeMetricFamily("hotline_service_level_target", "The queue's "
                                   "service-level target", labels=["queue"])
        for row in self.board.rows:
            key = [row.queue, row.tier]
            offered.add_metric(key, row.figures.offered)
            answered.add_metric(key, row.figures.answered)
            abandoned.add_metric(key, row.figures.abandoned)
            waiting.add_metric(key, row.waiting)
            longest.add_metric(key, 0.0 if row.longest_since is None
                               else max(0.0, self.now - row.longest_since))
            if row.figures.service_level is not None:
                sl.add_metric(key, row.figures.service_level)
            if row.tier == "all":
                target.add_metric([row.queue], row.target)
        agents = GaugeMetricFamily("hotline_agents", "Agents by state", labels=["state"])
        for state, count in self.board.states.items():
            agents.add_metric([state], count)
        leases = GaugeMetricFamily("hotline_engine_lease_held", "Engines seen lately, and "
                                   "whether each holds its lease now", labels=["engine"])
        for engine, held in sorted(self.engines.items()):
            leases.add_metric([engine], 1.0 if held else 0.0)
        up = GaugeMetricFamily("hotline_web_redis_up", "Whether this web process reads "
                               "Redis now")
        up.add_metric([], 1.0 if self.redis_up else 0.0)
        live = GaugeMetricFamily("hotline_web_live_updates_connected", "Whether this web "
                                 "process follows the floor's changes now")
        live.add_metric([], 1.0 if self.live_connected else 0.0)
        yield from (offered, answered, abandoned, waiting, longest, sl, target, agents,
                    leases, up, live)


def exposition(board: Floor, now: float, engines: Mapping[str, bool], redis_up: bool,
               live_connected: bool) -> bytes:
    """The text Prometheus scrapes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_FloorCollector(board, now, engines, redis_up, live_connected))
    return generate_latest(registry)

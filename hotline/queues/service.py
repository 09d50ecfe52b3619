"""The queue service the engine holds: waiting, matching, connecting, what follows a
ring and the reconciliation with Asterisk, wired together. Each part is its own module;
this one only builds them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from config.model import HotlineConfig
from hotline.queues.callback_in_line import CallbackInLine
from hotline.queues.connecting import Connector
from hotline.queues.matching import Matcher
from hotline.queues.outcomes import CallOutcomes
from hotline.queues.reconcile import Reconciler
from hotline.queues.reporting import QueueReporting
from hotline.queues.stats import QueueStats
from hotline.queues.waiting import Waiting
from hotline.runtime.due_timers import DueTimers
from hotline.runtime.supervisor import Supervisor
from pbx.ami import AmiConnection
from pbx.originate import AmiOriginator
from quality.sampling import ServedCall
from routing.store import RoutingStore


class Queues:
    def __init__(self, ami: AmiConnection, store: RoutingStore,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float], *,
                 supervisor: Supervisor | None = None, tick: float = 1.0,
                 on_served: Callable[[ServedCall], Awaitable[None]] | None = None,
                 stats: QueueStats | None = None,
                 dial_strings_set: Callable[[], bool] = lambda: False,
                 timers: DueTimers | None = None,
                 recordings_dir: str | None = None) -> None:
        # Alone (tests, benchmarks), it watches its own background work.
        self._own_supervisor = supervisor is None
        self.supervisor = supervisor or Supervisor()
        self.store = store
        self.report = QueueReporting(stats, store, config, clock)
        self.callbacks_in_line = CallbackInLine(AmiOriginator(ami), store, clock, self.wake,
                                                recordings_dir)
        self.connector = Connector(ami, store, self.report, self.callbacks_in_line, clock,
                                   self.wake, dial_strings_set, self.supervisor)
        self.matcher = Matcher(store, self.connector, config, clock, self.supervisor, tick)
        self.waiting = Waiting(store, self.matcher, self.report, stats, config, clock)
        self.reconciler = Reconciler(ami, store, self.report, config, clock, self.wake)
        self.outcomes = CallOutcomes(store, self.report, config, clock, self.wake,
                                     on_served, timers)

    def start(self) -> None:
        self.matcher.start()

    async def stop(self) -> None:
        if self._own_supervisor:
            await self.supervisor.stop()

    def wake(self) -> None:
        self.matcher.wake()

    async def match_round(self) -> int:
        return await self.matcher.match_round()

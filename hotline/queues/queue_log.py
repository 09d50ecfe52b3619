"""An Asterisk-format `queue_log`, so reporting tools built for app_queue (QueueMetrics
and the like) read the engine's queues as they read app_queue's.

Each line is `time|call id|queue|agent|EVENT|data1|data2|...`. Agents appear as
`Agent/<id>`. Each engine instance writes its own file, as each Asterisk would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class QueueLog:
    def __init__(self, path: Path | None, clock: Callable[[], float]) -> None:
        self.path = path
        self.clock = clock

    def write(self, call_id: str, queue: str, agent: str, event: str, *data: object) -> None:
        if self.path is None:
            return
        who = f"Agent/{agent}" if agent else "NONE"
        fields = [str(int(self.clock())), call_id or "NONE", queue or "NONE", who, event,
                  *(str(d).replace("|", "/").replace("\n", " ") for d in data)]
        try:
            with self.path.open("a", encoding="utf-8") as out:
                out.write("|".join(fields) + "\n")
        except OSError as exc:
            log.warning("queue_log %s not written: %s", self.path, exc)

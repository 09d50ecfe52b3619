"""The routing scripts: Lua files in `scripts/` beside this module, read once.

Each script sees `CHANGES_KEPT`, `MOVES_KEPT` and `FLOOR_KEPT` as locals set before its
own text.
The matcher's reads are two parts joined into one script
(`ready_changes` + `waiting_lines`), so a round costs one round trip.
"""

from __future__ import annotations

import functools
from importlib import resources

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

# The change stream keeps about this many entries; a reader further behind reads the
# whole set again.
CHANGES_KEPT = 20000
# Each agent's move log keeps this many of its latest moves (a busy day's worth).
MOVES_KEPT = 2000
# The floor's change stream (`RoutingKeys.floor`) keeps about this many entries: a page
# that falls further behind reads the floor again.
FLOOR_KEPT = 10000


@functools.cache
def _read(name: str) -> str:
    return resources.files(__package__).joinpath("scripts", f"{name}.lua").read_text()


def source(*parts: str, then: str = "") -> str:
    """The script made of `parts`, in order, followed by the Lua statement `then`."""
    return "\n".join([f"local CHANGES_KEPT, MOVES_KEPT, FLOOR_KEPT = {CHANGES_KEPT}, "
                      f"{MOVES_KEPT}, {FLOOR_KEPT}",
                      *(_read(part) for part in parts), then])


class Scripts:
    """Every routing script, registered with one Redis client."""

    def __init__(self, redis: Redis) -> None:
        self.reserve: AsyncScript = redis.register_script(source("reserve"))
        self.join = redis.register_script(source("join"))
        self.move_agent = redis.register_script(source("move_agent"))
        self.advance_call = redis.register_script(source("advance_call"))
        self.advance_call_on = redis.register_script(source("advance_call_on"))
        self.requeue = redis.register_script(source("requeue"))
        self.move_to_queue = redis.register_script(source("move_to_queue"))
        self.adopt_agents = redis.register_script(source("adopt_agents"))
        self.waiting = redis.register_script(source("waiting_lines", then="return lines"))
        self.match_reads = redis.register_script(source(
            "ready_changes", "waiting_lines", then="return {kind, last, total, ready, lines}"))

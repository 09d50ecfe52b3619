"""Where routing keeps its state in Redis.

Every key has the hash tag `{routing}`: the scripts that change an agent and a call
together run on one Redis Cluster slot.
"""

from __future__ import annotations


class RoutingKeys:
    def __init__(self, prefix: str) -> None:
        self.base = f"{prefix}{{routing}}"
        # The ready agents, as a sorted set (agent -> idle since), changed only by the
        # scripts that change an agent's state; every change is appended to a stream.
        self.ready = f"{self.base}:ready"
        self.ready_changes = f"{self.base}:ready:changes"
        # The waiting lines that may have callers, so a round visits only those.
        self.lines = f"{self.base}:lines"
        # What changed on the floor, for the people watching it (the web side): every
        # script that moves an agent or changes a line appends `a` (the agent's id)
        # and/or `q` (the queue), so a page hears a change without polling.
        self.floor = f"{self.base}:floor"

    def waiting(self, queue: str) -> str:
        return f"{self.base}:waiting:{queue}"

    def call(self, call_id: str) -> str:
        return f"{self.base}:call:{call_id}"

    def agent(self, agent_id: str) -> str:
        return f"{self.base}:agent:{agent_id}"

    def agent_log(self, agent_id: str) -> str:
        return f"{self.base}:agent:{agent_id}:log"

    @property
    def reads(self) -> list[str]:
        """The keys the matcher's reads go through."""
        return [self.ready, self.ready_changes, self.lines]

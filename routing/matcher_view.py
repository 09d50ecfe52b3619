"""What a matching round reads: who is free (kept in this process between rounds and
brought up to date from the ready set's change stream) and who waits in which line.

A matcher reads the whole ready set once, then only what changed since its last read,
so a round's read follows the changes, not the number of agents. Replies are packed
into a few strings by the scripts: the client parses a few replies, not thousands.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from redis.asyncio import Redis

from config.queues import Agent, Queue
from routing.decide import FreeAgents, WaitingCall
from routing.keys import RoutingKeys
from routing.lua import CHANGES_KEPT, Scripts


class MatcherView:
    def __init__(self, redis: Redis, keys: RoutingKeys, scripts: Scripts) -> None:
        self.redis = redis
        self.keys = keys
        self.scripts = scripts
        # This process's copy of the ready set, and how far into the change stream it is.
        self._free: FreeAgents | None = None
        self._seen: tuple[str, int] = ("", 0)
        self._adopted_agents = self._adopted_lines = False
        self._syncing = asyncio.Lock()
        self._joined: dict[tuple[str, ...], str] = {}

    async def waiting_in(self, queues: list[str]) -> dict[str, list[WaitingCall]]:
        """The callers still waiting in each of `queues`, in one round trip (every line
        read, whatever the index of lines with callers says)."""
        if not queues:
            return {}
        packed = await self.scripts.waiting(
            keys=self.keys.reads, args=["", 0, 0, self.keys.call(""), self._line_keys(queues)])
        return _lines(queues, packed)

    async def ready_agents(self) -> dict[str, float]:
        """Every ready agent and since when it is idle, in one read."""
        reply = await self.scripts.match_reads(keys=self.keys.reads, args=["", 0, 0, "", ""])
        return {agent_id: float(score) for agent_id, score in _pairs(reply[3])}

    async def free_agents(self, agents: Mapping[str, Agent]) -> FreeAgents:
        return (await self.match_reads(agents, {}))[0]

    async def match_reads(self, agents: Mapping[str, Agent], queues: Mapping[str, Queue]
                          ) -> tuple[FreeAgents, dict[str, list[WaitingCall]]]:
        """A matching round's reads: the ready agents that `agents` (a config version's)
        knows, indexed by skill, and the callers waiting in each of `queues` that one of
        them could serve when read, in the order of `queues`.

        A new version's agents, or a reader that fell behind the change stream, get a
        whole read. The lines that the index could serve before the update are read in
        the same round trip; one that only the update made servable is read after it.
        The caller may remove agents it reserved from the index; the index stays this
        view's, so remove nothing else.
        """
        async with self._syncing:
            await self._adopt(agents, queues)
            free = self._free if self._free is not None and \
                self._free.agents is agents else None
            whole = free is None  # then every line is read: who is free is not known yet
            asked = list(queues) if free is None else [
                name for name, rules in queues.items() if free.could_serve(rules)]
            kind, last_id, added, ready, lines = await self.scripts.match_reads(
                keys=self.keys.reads,
                args=[*(self._seen if free is not None else ("", 0)), CHANGES_KEPT // 2,
                      self.keys.call(""), self._line_keys(asked), "indexed"])
            free, grew = self._update(free if kind == "changes" else None, agents, ready)
            self._seen = (last_id, int(added))
            read = _lines(asked, lines)
            if grew:  # an agent back in the set may serve a line not read yet
                unread = [name for name, rules in queues.items()
                          if name not in read and free.could_serve(rules)]
                if unread:
                    read.update(await self.waiting_in(unread))
            return free, {name: read[name] for name in queues if name in read
                          and (not whole or free.could_serve(queues[name]))}

    def known_free(self, agents: Mapping[str, Agent]) -> FreeAgents | None:
        """Who was free at the last round's read, for the express lane's pick; None when
        that read was for another config version's agents. It may be a moment old: the
        reservation checks the agent is still ready. The caller may remove the agent it
        picks, and must add them back when they were not taken after all."""
        return self._free if self._free is not None and self._free.agents is agents else None

    def _line_keys(self, queues: list[str]) -> str:
        """The lines' keys as the scripts take them. Kept: most rounds ask for the lines
        the last round asked for."""
        names = tuple(queues)
        joined = self._joined.get(names)
        if joined is None:
            if len(self._joined) > 64:
                self._joined.clear()
            joined = self._joined[names] = "\x1f".join(self.keys.waiting(q) for q in queues)
        return joined

    def _update(self, free: FreeAgents | None, agents: Mapping[str, Agent],
                packed: str) -> tuple[FreeAgents, bool]:
        """Replay the ready set's changes (or the whole set, on a new index); whether an
        agent came into it."""
        if free is None:
            free = self._free = FreeAgents(agents)
        grew = False
        for agent_id, score in _pairs(packed):
            if score == "-":
                free.remove(agent_id)
            else:
                free.add(agent_id, float(score))
                grew = True
        return free, grew

    async def _adopt(self, agents: Mapping[str, Agent], queues: Mapping[str, Queue]) -> None:
        """What was written before the ready set and the lines' index existed (an
        upgrade while agents are logged in and callers wait): taken in once."""
        if agents and not self._adopted_agents:
            ids = list(agents)
            for start in range(0, len(ids), 1000):  # short scripts: Redis stays responsive
                chunk = ids[start:start + 1000]
                await self.scripts.adopt_agents(
                    keys=[self.keys.ready, self.keys.ready_changes,
                          *(self.keys.agent(a) for a in chunk)], args=chunk)
            self._adopted_agents = True
        if queues and not self._adopted_lines:
            # An empty line in the index is taken out at its first read.
            await self.redis.sadd(self.keys.lines, *(self.keys.waiting(q) for q in queues))
            self._adopted_lines = True


def _lines(queues: list[str], packed: str) -> dict[str, list[WaitingCall]]:
    out: dict[str, list[WaitingCall]] = {queue: [] for queue in queues}
    for row in packed.split("\x1e") if packed else []:
        index, call_id, queue, arrived, tier, boost = row.split("\x1f")
        out[queues[int(index) - 1]].append(
            WaitingCall(call_id, queue, float(arrived), tier, int(boost)))
    return out


def _pairs(packed: str) -> list[tuple[str, str]]:
    words = packed.split("\x1f") if packed else []
    return list(zip(words[::2], words[1::2], strict=True))

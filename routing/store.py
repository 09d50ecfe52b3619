"""Waiting callers and agent states in Redis.

Every key has the hash tag `{routing}`: the scripts that change an agent and a call
together run on one Redis Cluster slot. Anything that must happen once (an agent given a
call) is one script, never read-then-write from Python.

The ready agents are also a sorted set (agent -> idle since), changed only by the
scripts that change an agent's state, and every change to it is appended to a stream:
a matcher reads the whole set once, then only what changed since its last read. The
waiting lines that may have callers are a set too, so a round visits only those.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from enum import Enum

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from agents.state import AgentState, Move, MoveRefused, move
from config.queues import Agent, Queue
from routing.decide import FreeAgents, WaitingCall

# The change stream keeps about this many entries; a reader further behind reads the
# whole set again.
_CHANGES_KEPT = 20000

# An agent and a call are paired only if the agent is still ready and the caller is
# still waiting: two engine instances never give one agent two calls. An agent found in
# the ready set while not ready (written before the set existed) is taken out of it.
_RESERVE = f"""
if redis.call('HGET', KEYS[1], 'state') ~= 'ready' then
  if redis.call('ZREM', KEYS[4], ARGV[2]) == 1 then
    redis.call('XADD', KEYS[5], 'MAXLEN', '~', {_CHANGES_KEPT}, '*', 'a', ARGV[2], 's', '')
  end
  return 0
end
if redis.call('HGET', KEYS[2], 'state') ~= 'waiting' then return -1 end
redis.call('HSET', KEYS[1], 'state', 'reserved', 'since', ARGV[3], 'call', ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'offered', 'agent', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('XADD', KEYS[5], 'MAXLEN', '~', {_CHANGES_KEPT}, '*', 'a', ARGV[2], 's', '')
return 1
"""

# Compare-and-set of an agent's state: the move was decided from `expected`. The ready
# set and its change stream change in the same script, so they never disagree with the
# agents' states.
_MOVE = f"""
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
if ARGV[7] ~= '' and redis.call('HGET', KEYS[1], 'call') ~= ARGV[7] then return -1 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'since', ARGV[3], 'reason', ARGV[4])
if ARGV[2] == 'ready' then
  redis.call('HSET', KEYS[1], 'idle_since', ARGV[3])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[6])
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', {_CHANGES_KEPT}, '*', 'a', ARGV[6], 's', ARGV[3])
elseif redis.call('ZREM', KEYS[3], ARGV[6]) == 1 then
  redis.call('XADD', KEYS[4], 'MAXLEN', '~', {_CHANGES_KEPT}, '*', 'a', ARGV[6], 's', '')
end
if ARGV[2] == 'ready' or ARGV[2] == 'not_ready' or ARGV[2] == 'logged_out' then
  redis.call('HDEL', KEYS[1], 'call')
end
redis.call('RPUSH', KEYS[2], ARGV[5])
return 1
"""

# A call's state moves on only from the state it was seen in: of two engine instances
# handling the same event, one does the work.
_ADVANCE_CALL = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
"""

# Agents made ready before the ready set existed (an upgrade with agents logged in).
_ADOPT = f"""
local n = 0
for i = 3, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'state', 'idle_since')
  if f[1] == 'ready' and not redis.call('ZSCORE', KEYS[1], ARGV[i - 2]) then
    redis.call('ZADD', KEYS[1], f[2] or '0', ARGV[i - 2])
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', {_CHANGES_KEPT}, '*', 'a', ARGV[i - 2],
               's', f[2] or '0')
    n = n + 1
  end
end
return n
"""

# The reads of a matching round share one argument list and can run as one script:
# ARGV[1] the change-stream id a reader has seen up to, ARGV[2] how many changes it has
# seen in all, ARGV[3] how far behind it may be and still replay, ARGV[4] the call
# hashes' key prefix, ARGV[5] the waiting-line keys to read, separated by \x1f. Replies
# are packed into a few strings: the client parses a few replies, not thousands.

# What changed in the ready set since the reader's last look, or else the whole set.
# If exactly the changes added since then follow the id it saw, none was trimmed away
# and replaying them is exact.
_READY_PART = """
local total, last = 0, '0-0'
if redis.call('EXISTS', KEYS[2]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[2])
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then total = info[i + 1]
    elseif info[i] == 'last-generated-id' then last = info[i + 1] end
  end
end
local kind, ready = 'all', nil
local missed = total - tonumber(ARGV[2])
if ARGV[1] ~= '' and missed >= 0 and missed <= tonumber(ARGV[3]) then
  local entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[1], '+')
  if #entries == missed then
    local out = {}
    for _, entry in ipairs(entries) do
      out[#out + 1] = entry[2][2]
      out[#out + 1] = entry[2][4] == '' and '-' or entry[2][4]
    end
    kind, ready = 'changes', table.concat(out, '\\31')
  end
end
if ready == nil then
  ready = table.concat(redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES'), '\\31')
end
"""

# The waiting callers of the lines asked for, as rows "line index, call id, queue,
# arrived at, tier, boost". The lines are named in ARGV, not KEYS: encoding a hundred
# keys cost the client more than the script's whole run. Every key carries the
# `{routing}` hash tag, so the script still touches one Cluster slot (KEYS route it).
# With ARGV[6] set, only the lines in KEYS[3] are visited: the lines that may have
# callers (added to when a caller joins, taken out here when found empty). Visiting a
# hundred empty lines every round cost Redis twenty times the rest of the script.
_LINES_PART = """
local open = nil
if ARGV[6] == 'indexed' then
  open = {}
  for _, key in ipairs(redis.call('SMEMBERS', KEYS[3])) do open[key] = true end
end
local rows, i = {}, 0
for key in string.gmatch(ARGV[5], '[^\\31]+') do
  i = i + 1
  if open == nil or open[key] then
    local ids = redis.call('ZRANGE', key, 0, -1)
    if open and #ids == 0 then redis.call('SREM', KEYS[3], key) end
    for _, id in ipairs(ids) do
      local f = redis.call('HMGET', ARGV[4] .. id, 'state', 'queue', 'arrived_at', 'tier',
                           'boost')
      if f[1] == 'waiting' then
        rows[#rows + 1] = table.concat({i, id, f[2] or '', f[3] or '0', f[4] or 'normal',
                                        f[5] or '0'}, '\\31')
      end
    end
  end
end
local lines = table.concat(rows, '\\30')
"""

_WAITING = _LINES_PART + "return lines"
_MATCH_READS = _READY_PART + _LINES_PART + "return {kind, last, total, ready, lines}"

# A caller whose offer failed goes back to the line with the arrival time kept: the
# oldest waiting caller stays first.
_REQUEUE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'waiting')
redis.call('HDEL', KEYS[1], 'agent')
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'arrived_at'), ARGV[1])
redis.call('SADD', KEYS[3], KEYS[2])
return 1
"""


class Reserved(Enum):
    """How a reservation ended."""

    YES = 1
    AGENT_NOT_READY = 0  # another instance took the agent, or the agent left
    CALL_NOT_WAITING = -1  # the caller hung up or was already offered


class RoutingStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.base = f"{prefix}{{routing}}"
        self._reserve = redis.register_script(_RESERVE)
        self._move = redis.register_script(_MOVE)
        self._requeue = redis.register_script(_REQUEUE)
        self._advance_call = redis.register_script(_ADVANCE_CALL)
        self._match_reads = redis.register_script(_MATCH_READS)
        self._adopt_agents = redis.register_script(_ADOPT)
        self._waiting = redis.register_script(_WAITING)
        # This process's copy of the ready set, and how far into the change stream it is.
        self._free: FreeAgents | None = None
        self._seen: tuple[str, int] = ("", 0)
        self._adopted_agents = self._adopted_lines = False
        self._syncing = asyncio.Lock()
        self._joined: dict[tuple[str, ...], str] = {}

    @property
    def reserve_script(self) -> AsyncScript:
        """The reservation script itself (the router benchmark calls it bare)."""
        return self._reserve

    def waiting_key(self, queue: str) -> str:
        return f"{self.base}:waiting:{queue}"

    async def waiting_count(self, queue: str) -> int:
        return int(await self.redis.zcard(self.waiting_key(queue)))

    def call_key(self, call_id: str) -> str:
        return f"{self.base}:call:{call_id}"

    def agent_key(self, agent_id: str) -> str:
        return f"{self.base}:agent:{agent_id}"

    @property
    def ready_key(self) -> str:
        return f"{self.base}:ready"

    @property
    def ready_changes_key(self) -> str:
        return f"{self.base}:ready:changes"

    @property
    def lines_key(self) -> str:
        """The waiting lines that may have callers."""
        return f"{self.base}:lines"

    @property
    def _read_keys(self) -> list[str]:
        return [self.ready_key, self.ready_changes_key, self.lines_key]

    # --- callers --------------------------------------------------------------------

    async def join(self, call: WaitingCall, channel: str, number: str = "",
                   menu_path: str | None = None) -> None:
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(self.call_key(call.call_id), mapping={
                "queue": call.queue, "arrived_at": call.arrived_at, "tier": call.tier,
                "boost": call.boost, "channel": channel, "state": "waiting",
                "number": number})
            if menu_path is not None:  # kept when a caller rejoins after a missed ring
                tx.hset(self.call_key(call.call_id), "menu_path", menu_path)
            tx.zadd(self.waiting_key(call.queue), {call.call_id: call.arrived_at})
            tx.sadd(self.lines_key, self.waiting_key(call.queue))
            await tx.execute()

    async def move_to_queue(self, call_id: str, old: str, new: str) -> None:
        """Overflow, or a removed queue: the caller keeps its arrival time."""
        arrived = await self.redis.zscore(self.waiting_key(old), call_id)
        async with self.redis.pipeline(transaction=True) as tx:
            tx.zrem(self.waiting_key(old), call_id)
            if arrived is not None:
                tx.zadd(self.waiting_key(new), {call_id: arrived})
                tx.sadd(self.lines_key, self.waiting_key(new))
            tx.hset(self.call_key(call_id), "queue", new)
            await tx.execute()

    async def leave(self, call_id: str, queue: str) -> None:
        async with self.redis.pipeline(transaction=True) as tx:
            tx.zrem(self.waiting_key(queue), call_id)
            tx.hset(self.call_key(call_id), "state", "gone")
            await tx.execute()

    async def waiting(self, queue: str) -> list[WaitingCall]:
        return (await self.waiting_in([queue]))[queue]

    async def waiting_in(self, queues: list[str]) -> dict[str, list[WaitingCall]]:
        """The callers still waiting in each of `queues`, in one round trip (every line
        read, whatever the index of lines with callers says)."""
        if not queues:
            return {}
        packed = await self._waiting(keys=self._read_keys,
                                     args=["", 0, 0, self.call_key(""), self._line_keys(queues)])
        return self._lines(queues, packed)

    def _line_keys(self, queues: list[str]) -> str:
        """The lines' keys as the scripts take them. Kept: most rounds ask for the lines
        the last round asked for."""
        names = tuple(queues)
        joined = self._joined.get(names)
        if joined is None:
            if len(self._joined) > 64:
                self._joined.clear()
            joined = self._joined[names] = "\x1f".join(self.waiting_key(q) for q in queues)
        return joined

    @staticmethod
    def _lines(queues: list[str], packed: bytes | str) -> dict[str, list[WaitingCall]]:
        out: dict[str, list[WaitingCall]] = {queue: [] for queue in queues}
        for row in _text(packed).split("\x1e") if packed else []:
            index, call_id, queue, arrived, tier, boost = row.split("\x1f")
            out[queues[int(index) - 1]].append(
                WaitingCall(call_id, queue, float(arrived), tier, int(boost)))
        return out

    async def call(self, call_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.call_key(call_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def set_call_state(self, call_id: str, state: str) -> None:
        await self.redis.hset(self.call_key(call_id), "state", state)

    async def keep_for_callback(self, call_id: str, number: str) -> None:
        """The caller hung up to be called back: their place in line (arrival time,
        priority) stays; the matcher finds them as it finds anyone waiting."""
        await self.redis.hset(self.call_key(call_id), mapping={"callback": number,
                                                                "channel": ""})

    async def callback_missed(self, call_id: str) -> int:
        """How many callbacks this caller has now missed."""
        return int(await self.redis.hincrby(self.call_key(call_id), "callback_tries", 1))

    async def advance_call(self, call_id: str, expected: str, new: str) -> bool:
        """Move the call from `expected` to `new`; False when it was not `expected`
        (another engine instance handled the same event first)."""
        return bool(await self._advance_call(keys=[self.call_key(call_id)],
                                             args=[expected, new]))

    async def requeue(self, call_id: str, queue: str) -> bool:
        return bool(await self._requeue(keys=[self.call_key(call_id), self.waiting_key(queue),
                                              self.lines_key], args=[call_id]))

    # --- agents ---------------------------------------------------------------------

    async def agent(self, agent_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.agent_key(agent_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def agent_state(self, agent_id: str) -> AgentState:
        state = await self.redis.hget(self.agent_key(agent_id), "state")
        return AgentState(_text(state)) if state is not None else AgentState.LOGGED_OUT

    async def apply(self, agent_id: str, what: Move, now: float, reason: str = "",
                    call_id: str = "") -> AgentState:
        """Make the move from the agent's current state, or raise MoveRefused. With
        `call_id`, only while the agent is still busy with that call: a late event about
        an earlier call never moves an agent busy with the next one."""
        for _ in range(5):
            current = await self.agent_state(agent_id)
            new = move(current, what)
            expected = current.value
            if current is AgentState.LOGGED_OUT and not await self.redis.exists(
                    self.agent_key(agent_id)):
                await self.redis.hsetnx(self.agent_key(agent_id), "state", expected)
            log_entry = f"{now:.3f} {expected}->{new.value} {what.value} {reason}".strip()
            done = int(await self._move(
                keys=[self.agent_key(agent_id), f"{self.agent_key(agent_id)}:log",
                      self.ready_key, self.ready_changes_key],
                args=[expected, new.value, now, reason, log_entry, agent_id, call_id]))
            if done == -1:
                raise MoveRefused(f"agent {agent_id} is no longer busy with call {call_id}")
            if done:
                return new
        raise MoveRefused(f"agent {agent_id} kept changing state; try again")

    def reservation(self, agent_id: str, call: WaitingCall,
                    now: float) -> tuple[list[str], list[str | float]]:
        """The reservation script's keys and arguments."""
        return ([self.agent_key(agent_id), self.call_key(call.call_id),
                 self.waiting_key(call.queue), self.ready_key, self.ready_changes_key],
                [call.call_id, agent_id, now])

    async def reserve(self, agent_id: str, call: WaitingCall, now: float) -> Reserved:
        keys, args = self.reservation(agent_id, call, now)
        return Reserved(int(await self._reserve(keys=keys, args=args)))

    async def ready_agents(self) -> dict[str, float]:
        """Every ready agent and since when it is idle, in one read."""
        reply = await self._match_reads(keys=self._read_keys, args=["", 0, 0, "", ""])
        return {agent_id: float(score) for agent_id, score in _pairs(reply[3])}

    async def free_agents(self, agents: Mapping[str, Agent]) -> FreeAgents:
        return (await self.match_reads(agents, {}))[0]

    async def match_reads(self, agents: Mapping[str, Agent], queues: Mapping[str, Queue]
                          ) -> tuple[FreeAgents, dict[str, list[WaitingCall]]]:
        """A matching round's reads: the ready agents that `agents` (a config version's)
        knows, indexed by skill, and the callers waiting in each of `queues` that one of
        them could serve when read, in the order of `queues`.

        The index is kept between rounds and brought up to date with what changed in the
        ready set since the last round, so the read follows the changes, not the number
        of agents; a new version's agents, or a reader that fell behind the change
        stream, get a whole read. The lines that the index could serve before the update
        are read in the same round trip; one that only the update made servable is read
        after it. The caller may remove agents it reserved from the index; the index
        stays this store's, so remove nothing else.
        """
        async with self._syncing:
            await self._adopt(agents, queues)
            free = self._free if self._free is not None and \
                self._free.agents is agents else None
            whole = free is None  # then every line is read: who is free is not known yet
            asked = list(queues) if free is None else [
                name for name, rules in queues.items() if free.could_serve(rules)]
            kind, last_id, added, ready, lines = await self._match_reads(
                keys=self._read_keys,
                args=[*(self._seen if free is not None else ("", 0)), _CHANGES_KEPT // 2,
                      self.call_key(""), self._line_keys(asked), "indexed"])
            free, grew = self._update(free if _text(kind) == "changes" else None, agents,
                                      ready)
            self._seen = (_text(last_id), int(added))
            read = self._lines(asked, lines)
            if grew:  # an agent back in the set may serve a line not read yet
                unread = [name for name, rules in queues.items()
                          if name not in read and free.could_serve(rules)]
                if unread:
                    read.update(await self.waiting_in(unread))
            return free, {name: read[name] for name in queues if name in read
                          and (not whole or free.could_serve(queues[name]))}

    def _update(self, free: FreeAgents | None, agents: Mapping[str, Agent],
                packed: bytes | str) -> tuple[FreeAgents, bool]:
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
                await self._adopt_agents(keys=[self.ready_key, self.ready_changes_key,
                                               *(self.agent_key(a) for a in chunk)], args=chunk)
            self._adopted_agents = True
        if queues and not self._adopted_lines:
            # An empty line in the index is taken out at its first read.
            await self.redis.sadd(self.lines_key, *(self.waiting_key(q) for q in queues))
            self._adopted_lines = True

    async def agents_in(self, agent_ids: list[str]) -> dict[str, dict[str, str]]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.hgetall(self.agent_key(agent_id))
            replies = await pipe.execute()
        return {agent_id: {_text(k): _text(v) for k, v in raw.items()}
                for agent_id, raw in zip(agent_ids, replies, strict=True)}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _pairs(packed: bytes | str) -> list[tuple[str, str]]:
    words = _text(packed).split("\x1f") if packed else []
    return list(zip(words[::2], words[1::2], strict=True))


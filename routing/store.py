"""Waiting callers and agent states in Redis.

Every key has the hash tag `{routing}`: the scripts that change an agent and a call
together run on one Redis Cluster slot. Anything that must happen once (an agent given a
call) is one script, never read-then-write from Python.
"""

from __future__ import annotations

from redis.asyncio import Redis

from agents.state import AgentState, Move, MoveRefused, move
from routing.decide import WaitingCall

# An agent and a call are paired only if the agent is still ready and the caller is
# still waiting: two engine instances never give one agent two calls.
_RESERVE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'ready' then return 0 end
if redis.call('HGET', KEYS[2], 'state') ~= 'waiting' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'reserved', 'since', ARGV[3], 'call', ARGV[1])
redis.call('HSET', KEYS[2], 'state', 'offered', 'agent', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
"""

# Compare-and-set of an agent's state: the move was decided from `expected`.
_MOVE = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'since', ARGV[3], 'reason', ARGV[4])
if ARGV[2] == 'ready' then redis.call('HSET', KEYS[1], 'idle_since', ARGV[3]) end
if ARGV[2] == 'ready' or ARGV[2] == 'not_ready' or ARGV[2] == 'logged_out' then
  redis.call('HDEL', KEYS[1], 'call')
end
redis.call('RPUSH', KEYS[2], ARGV[5])
return 1
"""

# A caller whose offer failed goes back to the line with the arrival time kept: the
# oldest waiting caller stays first.
_REQUEUE = """
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'waiting')
redis.call('HDEL', KEYS[1], 'agent')
redis.call('ZADD', KEYS[2], redis.call('HGET', KEYS[1], 'arrived_at'), ARGV[1])
return 1
"""


class RoutingStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.base = f"{prefix}{{routing}}"
        self._reserve = redis.register_script(_RESERVE)
        self._move = redis.register_script(_MOVE)
        self._requeue = redis.register_script(_REQUEUE)

    def waiting_key(self, queue: str) -> str:
        return f"{self.base}:waiting:{queue}"

    def call_key(self, call_id: str) -> str:
        return f"{self.base}:call:{call_id}"

    def agent_key(self, agent_id: str) -> str:
        return f"{self.base}:agent:{agent_id}"

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
            await tx.execute()

    async def move_to_queue(self, call_id: str, old: str, new: str) -> None:
        """Overflow, or a removed queue: the caller keeps its arrival time."""
        arrived = await self.redis.zscore(self.waiting_key(old), call_id)
        async with self.redis.pipeline(transaction=True) as tx:
            tx.zrem(self.waiting_key(old), call_id)
            if arrived is not None:
                tx.zadd(self.waiting_key(new), {call_id: arrived})
            tx.hset(self.call_key(call_id), "queue", new)
            await tx.execute()

    async def leave(self, call_id: str, queue: str) -> None:
        async with self.redis.pipeline(transaction=True) as tx:
            tx.zrem(self.waiting_key(queue), call_id)
            tx.hset(self.call_key(call_id), "state", "gone")
            await tx.execute()

    async def waiting(self, queue: str) -> list[WaitingCall]:
        members = await self.redis.zrange(self.waiting_key(queue), 0, -1)
        ids = [_text(i) for i in members if isinstance(i, bytes | str)]
        out = []
        for call_id in ids:
            fields = await self.call(call_id)
            if fields.get("state") == "waiting":
                out.append(WaitingCall(call_id, fields["queue"], float(fields["arrived_at"]),
                                       fields.get("tier", "normal"), int(fields.get("boost", 0))))
        return out

    async def call(self, call_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.call_key(call_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def set_call_state(self, call_id: str, state: str) -> None:
        await self.redis.hset(self.call_key(call_id), "state", state)

    async def requeue(self, call_id: str, queue: str) -> bool:
        return bool(await self._requeue(keys=[self.call_key(call_id), self.waiting_key(queue)],
                                        args=[call_id]))

    # --- agents ---------------------------------------------------------------------

    async def agent(self, agent_id: str) -> dict[str, str]:
        raw = await self.redis.hgetall(self.agent_key(agent_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    async def agent_state(self, agent_id: str) -> AgentState:
        state = await self.redis.hget(self.agent_key(agent_id), "state")
        return AgentState(_text(state)) if state is not None else AgentState.LOGGED_OUT

    async def apply(self, agent_id: str, what: Move, now: float, reason: str = "") -> AgentState:
        """Make the move from the agent's current state, or raise MoveRefused."""
        for _ in range(5):
            current = await self.agent_state(agent_id)
            new = move(current, what)
            expected = current.value
            if current is AgentState.LOGGED_OUT and not await self.redis.exists(
                    self.agent_key(agent_id)):
                await self.redis.hsetnx(self.agent_key(agent_id), "state", expected)
            log_entry = f"{now:.3f} {expected}->{new.value} {what.value} {reason}".strip()
            if await self._move(keys=[self.agent_key(agent_id),
                                      f"{self.agent_key(agent_id)}:log"],
                                args=[expected, new.value, now, reason, log_entry]):
                return new
        raise MoveRefused(f"agent {agent_id} kept changing state; try again")

    async def reserve(self, agent_id: str, call: WaitingCall, now: float) -> bool:
        return bool(await self._reserve(
            keys=[self.agent_key(agent_id), self.call_key(call.call_id),
                  self.waiting_key(call.queue)],
            args=[call.call_id, agent_id, now]))

    async def agents_in(self, agent_ids: list[str]) -> dict[str, dict[str, str]]:
        out = {}
        for agent_id in agent_ids:
            out[agent_id] = await self.agent(agent_id)
        return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


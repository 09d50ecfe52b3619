"""Waiting callers and agent states in Redis: the records, and the moves between states.

Anything that must happen once (an agent given a call, an agent's move, a caller moved
between lines) is one script in `routing/scripts/`, never read-then-write from Python.
What the matcher reads each round is `view` (`routing.matcher_view`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import cast

from redis.asyncio import Redis

from agents.state import AgentState, Move, MoveRefused, move
from routing.decide import WaitingCall
from routing.keys import RoutingKeys
from routing.lua import FLOOR_KEPT, Scripts
from routing.matcher_view import MatcherView


class Reserved(Enum):
    """How a reservation ended."""

    YES = 1
    AGENT_NOT_READY = 0  # another instance took the agent, or the agent left
    CALL_NOT_WAITING = -1  # the caller hung up or was already offered


@dataclass(frozen=True, slots=True)
class Joined:
    """How a caller's join went. `reserved`: with the agent named (the express lane),
    YES, or AGENT_NOT_READY when that agent was taken meanwhile; None when no pair was
    tried (no agent named, or others wait: the matcher orders them all). `place`: the
    caller's place at the end of the line (1 when served at once)."""

    reserved: Reserved | None
    place: int


def joined(outcome: object, place: object) -> Joined:
    """The join script's reply (outcomes 1, 0 and -1) as a `Joined`."""
    return Joined({1: Reserved.YES, -1: Reserved.AGENT_NOT_READY}.get(int(str(outcome))),
                  int(str(place)))


# A call's routing record outlives the call long enough for its recording to be filed
# and its statistics read, then goes.
CALL_KEPT = 2 * 86400
# A script call reserves at most this many pairs: Redis runs each in well under a
# millisecond, and serves other clients between them.
PAIRS_PER_SCRIPT = 100


class RoutingStore:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.keys = RoutingKeys(prefix)
        self.scripts = Scripts(redis)
        self.view = MatcherView(redis, self.keys, self.scripts)

    # --- callers --------------------------------------------------------------------

    async def join(self, call: WaitingCall, channel: str, number: str = "",
                   menu_path: str | None = None, agent_id: str = "",
                   now: float = 0.0) -> Joined:
        """The caller joins `call.queue`'s line. With `agent_id` (a free agent fitting
        the queue: the express lane), they are reserved for each other in the same round
        trip when nobody else waits anywhere; otherwise the caller waits for the
        matcher (see `Joined`)."""
        outcome, place = await self.scripts.join(
            *self.join_keys_args(call, channel, number, menu_path, agent_id, now))
        return joined(outcome, place)

    def join_keys_args(self, call: WaitingCall, channel: str, number: str,
                       menu_path: str | None, agent_id: str, now: float,
                       pair_or_nothing: bool = False) -> tuple[list[str], list[str | float]]:
        """The join script's keys and arguments; `pair_or_nothing`: the caller joins only
        reserved for `agent_id` (outcome -2 when not: nothing was written)."""
        return ([self.keys.call(call.call_id), self.keys.waiting(call.queue),
                 self.keys.lines, self.keys.ready, self.keys.ready_changes,
                 self.keys.agent(agent_id), self.keys.floor],
                # the menu path is kept when a caller rejoins after a missed ring (None)
                [call.call_id, call.queue, call.arrived_at, call.tier, call.boost, channel,
                 number, menu_path or "", CALL_KEPT, agent_id, now,
                 "1" if pair_or_nothing else ""])

    async def move_to_queue(self, call_id: str, old: str, new: str) -> None:
        """Overflow, or a removed queue: the caller keeps its arrival time."""
        await self.scripts.move_to_queue(
            keys=[self.keys.waiting(old), self.keys.waiting(new), self.keys.call(call_id),
                  self.keys.lines, self.keys.floor], args=[call_id, new])

    async def leave(self, call_id: str, queue: str) -> None:
        async with self.redis.pipeline(transaction=True) as tx:
            tx.zrem(self.keys.waiting(queue), call_id)
            tx.hset(self.keys.call(call_id), "state", "gone")
            tx.xadd(self.keys.floor, {"q": queue}, maxlen=FLOOR_KEPT, approximate=True)
            await tx.execute()

    async def waiting(self, queue: str) -> list[WaitingCall]:
        return (await self.view.waiting_in([queue]))[queue]

    async def waiting_count(self, queue: str) -> int:
        return int(await self.redis.zcard(self.keys.waiting(queue)))

    async def call(self, call_id: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(self.keys.call(call_id)))

    async def keep_for_callback(self, call_id: str, number: str) -> None:
        """The caller hung up to be called back: their place in line (arrival time,
        priority) stays; the matcher finds them as it finds anyone waiting."""
        await self.redis.hset(self.keys.call(call_id), mapping={"callback": number,
                                                                 "channel": ""})

    async def next_callback(self, call_id: str) -> int:
        """The number of the callback about to be placed: 1 for the call's first."""
        return int(await self.redis.hincrby(self.keys.call(call_id), "callbacks_placed", 1))

    async def callback_placed(self, call_id: str, recording: str) -> None:
        """A callback is ringing the customer. `recording`: the file (as Asterisk sees
        it) their leg is recorded into from the moment they answer; "" for none."""
        await self.redis.hset(self.keys.call(call_id), "callback_recording", recording)

    async def callback_missed(self, call_id: str) -> int:
        """How many callbacks this caller has now missed."""
        return int(await self.redis.hincrby(self.keys.call(call_id), "callback_tries", 1))

    async def advance_call(self, call_id: str, expected: str, new: str) -> bool:
        """Move the call from `expected` to `new`; False when it was not `expected`
        (another engine instance handled the same event first)."""
        return bool(await self.scripts.advance_call(keys=[self.keys.call(call_id)],
                                                    args=[expected, new]))

    async def advance_call_on(self, call_id: str, channel: str, expected: str,
                              new: str, **noted: str) -> tuple[bool, dict[str, str]]:
        """On an event about the call on `channel` (see `advance_call_on.lua`): move it
        from `expected` to `new`, noting `noted` with the move, and `channel` when none
        was on record. Returns whether it moved, and the call's fields as they were, in
        one round trip."""
        flat_noted = [item for pair in noted.items() for item in pair]
        moved, flat = await self.scripts.advance_call_on(
            keys=[self.keys.call(call_id)], args=[expected, new, channel, *flat_noted])
        return bool(moved), dict(zip(flat[::2], flat[1::2], strict=True))

    async def requeue(self, call_id: str, queue: str) -> bool:
        return bool(await self.scripts.requeue(
            keys=[self.keys.call(call_id), self.keys.waiting(queue), self.keys.lines,
                  self.keys.floor], args=[call_id]))

    # --- agents ---------------------------------------------------------------------

    async def agent(self, agent_id: str) -> dict[str, str]:
        return cast(dict[str, str], await self.redis.hgetall(self.keys.agent(agent_id)))

    async def agent_state(self, agent_id: str) -> AgentState:
        state = await self.redis.hget(self.keys.agent(agent_id), "state")
        return AgentState(str(state)) if state is not None else AgentState.LOGGED_OUT

    async def agents_in(self, agent_ids: list[str]) -> dict[str, dict[str, str]]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.hgetall(self.keys.agent(agent_id))
            replies = await pipe.execute()
        return dict(zip(agent_ids, replies, strict=True))

    async def apply(self, agent_id: str, what: Move, now: float, reason: str = "",
                    call_id: str = "", likely: AgentState | None = None) -> AgentState:
        """Make the move from the agent's current state, or raise MoveRefused. With
        `call_id`, only while the agent is still busy with that call: a late event about
        an earlier call never moves an agent busy with the next one. `likely`: the state
        the caller expects the agent in (an answered ring: reserved); tried first without
        reading it, and read only when it was not."""
        for attempt in range(5):
            guess = attempt == 0 and likely is not None
            current = likely if guess and likely is not None else \
                await self.agent_state(agent_id)
            try:
                new = move(current, what)  # the decision; the script checks it still holds
            except MoveRefused:
                if guess:
                    continue  # not from the state guessed: from the one read
                raise
            entry = f"{now:.3f} {current.value}->{new.value} {what.value} {reason}".strip()
            done = int(await self.scripts.move_agent(
                keys=[self.keys.agent(agent_id), self.keys.agent_log(agent_id),
                      self.keys.ready, self.keys.ready_changes, self.keys.floor],
                args=[current.value, new.value, now, reason, entry, agent_id, call_id]))
            if done == -1:
                raise MoveRefused(f"agent {agent_id} is no longer busy with call {call_id}")
            if done:
                return new
        raise MoveRefused(f"agent {agent_id} kept changing state; try again")

    def reservation(self, pairs: Sequence[tuple[str, WaitingCall]],
                    now: float) -> tuple[list[str], list[str | float]]:
        """The reservation script's keys and arguments for (agent id, call) pairs."""
        keys = [self.keys.ready, self.keys.ready_changes, self.keys.floor]
        args: list[str | float] = [now]
        for agent_id, call in pairs:
            keys += (self.keys.agent(agent_id), self.keys.call(call.call_id),
                     self.keys.waiting(call.queue))
            args += (call.call_id, agent_id)
        return keys, args

    async def reserve(self, agent_id: str, call: WaitingCall, now: float) -> Reserved:
        return (await self.reserve_pairs([(agent_id, call)], now))[0]

    async def reserve_pairs(self, pairs: Sequence[tuple[str, WaitingCall]],
                            now: float) -> list[Reserved]:
        """Reserve each (agent id, call) pair on its own, in one round trip: how each
        ended, in order. Many pairs go as several script calls in one pipeline, so
        Redis serves other clients between them."""
        if len(pairs) <= PAIRS_PER_SCRIPT:
            keys, args = self.reservation(pairs, now)
            replies = [await self.scripts.reserve(keys=keys, args=args)]
        else:
            async with self.redis.pipeline(transaction=False) as pipe:
                for start in range(0, len(pairs), PAIRS_PER_SCRIPT):
                    keys, args = self.reservation(pairs[start:start + PAIRS_PER_SCRIPT], now)
                    await self.scripts.reserve(keys=keys, args=args, client=pipe)
                replies = await pipe.execute()
        return [Reserved(int(outcome)) for reply in replies for outcome in reply]

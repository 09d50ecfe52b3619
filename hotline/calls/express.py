"""The express lane from the call's arrival: for a number whose first menu node is a
queue, with a free agent fitting that queue and nobody waiting anywhere, the claim of
the call, its record, the caller's VIP tier, the join and the agent's reservation are
one script, so AsyncAGIStart costs one round trip to Redis before the ring.

It is a pair or nothing: when the agent was taken meanwhile, or callers wait, or a peer
engine owns the call, nothing is joined and the call goes the usual way (the tier
lookup, then the join when the menu reaches the queue). The tier is read in the script
only from the customer directory kept in this Redis; with a billing backend over HTTP
there is no express lane at the claim.

The script spans three rooms' keys (the call's, the directory's, the routing's), as the
engine's other cross-room scripts do; on Redis Cluster they would need one slot.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from config.model import HotlineConfig
from config.queues import TIERS
from hotline.billing.redis_store import RedisBilling
from hotline.calls.records import CLAIM_AND_OPEN, CallLog
from hotline.queues.matching import Matcher
from hotline.runtime.live_config import LiveConfig
from ivr.billing import BillingBackend
from ivr.menu import straight_to_queue
from ivr.numbers import start_node
from pbx.ports import Call
from routing.decide import FreeAgent, WaitingCall
from routing.lua import source
from routing.store import RoutingStore


def _as_function(name: str, text: str) -> str:
    """A script's text as a local function of its own keys and arguments."""
    body = re.sub(r"\bARGV\b", "A", re.sub(r"\bKEYS\b", "K", text))
    return f"local function {name}(K, A)\n{body}\nend"


_CLAIM_ARGS = 10  # CallLog.claim_keys_args
# KEYS: the claim's two, the caller's account, the join's six.
# ARGV: the claim's ten, the tiers there are (space-separated), the join's twelve.
# Returns {1, tier, join outcome, place} for this engine's call, else {owner, '', -2, 0}.
_MAIN = f"""
local won = claim({{KEYS[1], KEYS[2]}}, {{unpack(ARGV, 1, {_CLAIM_ARGS})}})
if won ~= 1 then return {{won, '', -2, 0}} end
local tier = redis.call('HGET', KEYS[3], 'tier')
local tiers = ' ' .. ARGV[{_CLAIM_ARGS + 1}] .. ' '
if not tier or not string.find(tiers, ' ' .. tier .. ' ', 1, true) then tier = 'normal' end
local a = {{unpack(ARGV, {_CLAIM_ARGS + 2})}}
a[4] = tier
local joined = join({{unpack(KEYS, 4)}}, a)
return {{1, tier, joined[1], joined[2]}}
"""
_EXPRESS = "\n".join([_as_function("claim", CLAIM_AND_OPEN),
                      _as_function("join", source("join")), _MAIN])


@dataclass(frozen=True, slots=True)
class ExpressClaim:
    owner: str | None  # None: the call is this engine's (claimed now, or already)
    tier: str  # the caller's VIP tier ('' when the call is a peer's)
    reserved: bool  # joined and reserved for the agent named
    agent_taken: bool = False  # not reserved: the agent was no longer ready


@dataclass(frozen=True, slots=True)
class _Plan:
    config: HotlineConfig  # the version the agent was picked under
    waiting: WaitingCall  # its tier filled in by the script
    agent: FreeAgent
    menu_path: str


class ExpressLane:
    def __init__(self, redis: Redis, call_log: CallLog, routing: RoutingStore,
                 live: LiveConfig, billing: Callable[[], BillingBackend], matcher: Matcher,
                 clock: Callable[[], float]) -> None:
        self.call_log = call_log
        self.routing = routing
        self.live = live
        self.billing = billing
        self.matcher = matcher
        self.clock = clock
        self._script = redis.register_script(_EXPRESS)
        self._plans: dict[str, _Plan] = {}  # by call id, from the arrival to the claim

    def plan(self, call: Call) -> bool:
        """A new call has arrived: whether it takes the express lane at its claim. Its
        agent is taken out of the free agents known here meanwhile."""
        config = self.live.config
        start = start_node(config, call.dialled_number, call.caller_number)
        node = straight_to_queue(config, start)
        if start is None or node is None or not isinstance(self.billing(), RedisBilling):
            return False
        agent = self.matcher.take_free(config, node.queue, 0.0)
        if agent is None:
            return False
        self._plans[call.call_id] = _Plan(
            config, WaitingCall(call.call_id, node.queue, self.clock(), "", node.priority_boost),
            agent, start)  # the menu path the caller's menu would join with
        return True

    def claim(self, call: Call, instance_id: str,
              entry: str | None) -> Awaitable[ExpressClaim] | None:
        """The claim of a call `plan` took (None for any other): see `CallLog.claim_and_open`."""
        plan = self._plans.pop(call.call_id, None)
        if plan is None:
            return None
        backend = self.billing()
        if not isinstance(backend, RedisBilling):  # a new version moved the directory
            self.matcher.give_back(plan.config, plan.agent)
            return None
        return self._claim(call, instance_id, entry, plan,
                           backend.account_key(call.caller_number))

    def forget(self, call: Call) -> None:
        """The call's session is over: an agent picked or reserved for it and never rung
        is free again."""
        plan = self._plans.pop(call.call_id, None)
        if plan is not None:
            self.matcher.give_back(plan.config, plan.agent)
        self.matcher.release_ahead(call.call_id)

    async def _claim(self, call: Call, instance_id: str, entry: str | None, plan: _Plan,
                     account_key: str) -> ExpressClaim:
        agent_id = plan.agent.agent_id
        try:
            got = await self.claim_and_join(call, instance_id, entry, account_key,
                                            plan.waiting, agent_id, plan.menu_path,
                                            self.clock())
        except BaseException:
            self.matcher.give_back(plan.config, plan.agent)
            raise
        if got.reserved:
            self.matcher.reserved_ahead(call.call_id, agent_id, plan.waiting.queue)
        elif not got.agent_taken:
            self.matcher.give_back(plan.config, plan.agent)
        return got

    async def claim_and_join(self, call: Call, instance_id: str, entry: str | None,
                             account_key: str, waiting: WaitingCall, agent_id: str,
                             menu_path: str, now: float) -> ExpressClaim:
        """Claim `call` for `instance_id` and open its record (as
        `CallLog.claim_and_open`); when it is ours, join `waiting` (its tier read from
        the account at `account_key`) reserved for `agent_id`, or not at all."""
        claim_keys, claim_args = self.call_log.claim_keys_args(call, instance_id, entry)
        join_keys, join_args = self.routing.join_keys_args(
            waiting, call.channel, call.caller_number, menu_path, agent_id, now,
            pair_or_nothing=True)
        won, tier, outcome, _place = await self._script(
            keys=[*claim_keys, account_key, *join_keys],
            args=[*claim_args, " ".join(TIERS), *join_args])
        if won != 1:
            return ExpressClaim(str(won), "", False)
        return ExpressClaim(None, str(tier), int(outcome) == 1, int(outcome) == -3)

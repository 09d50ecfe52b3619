"""What happens to callers in the queues, counted (`QueueStats`) and written to the
Asterisk-format `queue_log`: entering, leaving by a rule, abandoning, being answered,
and the end of the conversation."""

from __future__ import annotations

from collections.abc import Callable

from agents.state import AgentState, Move
from config.model import HotlineConfig
from hotline.queues.queue_log import agent_event
from hotline.queues.stats import QueueStats
from pbx.ports import Call
from routing.policy import Leave, counted_as
from routing.replay import Served
from routing.stats import abandoned_counters, answered_counters
from routing.store import RoutingStore


class QueueReporting:
    def __init__(self, stats: QueueStats | None, store: RoutingStore,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float]) -> None:
        self.stats = stats  # None: nothing is counted (tests of other things, benches)
        self.store = store
        self.config = config
        self.clock = clock

    async def entered(self, call: Call, queue: str, tier: str,
                      place: int | None = None) -> None:
        """`place`: where the caller joined, when the join said (else read)."""
        if self.stats is None:
            return
        await self.stats.count(queue, tier, {"offered": 1})
        # Where a new caller joins, as app_queue logs it: the end of the line (one count
        # on the hot path, not a read of every caller waiting).
        position = place if place is not None else await self.store.waiting_count(queue)
        self.stats.log.write(call.call_id, queue, "", "ENTERQUEUE", "", call.caller_number,
                             position)

    async def left(self, call_id: str, queue: str, tier: str, why: Leave) -> None:
        if self.stats is None:
            return
        fields = await self.store.call(call_id)
        arrived = float(fields.get("arrived_at", self.clock()))
        waited = self.clock() - arrived
        await self.stats.count(queue, tier, {counted_as(why): 1}, call_id=call_id,
                               served=Served(call_id, queue, tier, arrived, counted_as(why),
                                             waited))
        self.stats.log.write(call_id, queue, "", "EXITWITHTIMEOUT", 1, 1, int(waited))

    async def abandoned(self, call_id: str, queue: str, tier: str, arrived: float) -> None:
        rules = self.config().queues.get(queue)
        if self.stats is None or rules is None:
            return
        waited = self.clock() - arrived
        await self.stats.count(queue, tier, abandoned_counters(
            waited, rules.service_level.short_abandon), call_id=call_id,
            served=Served(call_id, queue, tier, arrived, "abandoned", waited))
        self.stats.log.write(call_id, queue, "", "ABANDON", 1, 1, int(waited))

    async def starving(self, queue: str, tier: str) -> None:
        if self.stats is not None:
            await self.stats.count(queue, tier, {"starvation_warnings": 1})

    def agent_moved(self, agent_id: str, what: Move, new: AgentState, reason: str) -> None:
        if self.stats is None:
            return
        agent = self.config().agents.get(agent_id)
        event = agent_event(what, new, reason, agent.endpoint if agent else "")
        if event is not None:
            self.stats.log.write("", "", agent_id, event[0], *event[1])

    async def ringing(self, call_id: str, at: float) -> None:
        if self.stats is not None:
            await self.stats.mark(call_id, rang=at)

    async def unanswered(self, call_id: str, queue: str, agent_id: str, now: float) -> None:
        if self.stats is not None:
            rang = (await self.stats.ring_unanswered(call_id)).get("rang", now)
            self.stats.log.write(call_id, queue, agent_id, "RINGNOANSWER",
                                 int((now - rang) * 1000))

    async def answered(self, call_id: str, fields: dict[str, str], agent_id: str,
                        now: float) -> None:
        queue = fields.get("queue", "")
        rules = self.config().queues.get(queue)
        if self.stats is None or rules is None:
            return
        waited = now - float(fields.get("arrived_at", now))
        before = await self.stats.count(queue, fields.get("tier", "normal"), answered_counters(
            waited, rules.service_level.answered_within), call_id=call_id, answered=now)
        rang = before.get("rang", now)
        self.stats.log.write(call_id, queue, agent_id, "CONNECT", int(waited), call_id,
                             int(now - rang))

    async def completed(self, call_id: str, fields: dict[str, str], agent_id: str) -> None:
        if self.stats is None:
            return
        now, queue = self.clock(), fields.get("queue", "")
        # Noted with the answer in the call's record; a call answered before it was
        # noted there has it among its moments.
        answered = float(fields["answered_at"]) if fields.get("answered_at") else \
            (await self.stats.moments(call_id)).get("answered", now)
        talked = now - answered
        arrived = float(fields.get("arrived_at", now))
        waited = answered - arrived
        tier = fields.get("tier", "normal")
        await self.stats.count(queue, tier, {"handled": 1, "talk_ms": int(talked * 1000)},
                               handle_time=talked, call_id=call_id,
                               served=Served(call_id, queue, tier, arrived, "answered", waited,
                                             talked, agent_id))
        self.stats.log.write(call_id, queue, agent_id, "COMPLETECALLER", int(waited),
                             int(talked), 1)

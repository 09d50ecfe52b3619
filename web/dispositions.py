"""A call's disposition, chosen by its agent in wrap-up: kept with the call's routing
record, with its recording's index entry (for the reports and the QA review), and
counted in the day's figures of the call's queue (`hotline queues stats`)."""

from __future__ import annotations

from redis.asyncio import Redis

from hotline.queues.stats import DISPOSITION
from web.reading import Reader

# On the recording's entry only while it exists or is being recorded: a call with no
# recording leaves no entry behind that nothing would ever remove.
_ON_RECORDING = """
if redis.call('EXISTS', KEYS[1]) == 0 and not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'disposition', ARGV[2], 'disposition_note', ARGV[3])
return 1
"""


class Dispositions:
    def __init__(self, redis: Redis, prefix: str, reader: Reader) -> None:
        self.redis = redis
        self.reader = reader
        self._on_recording = redis.register_script(_ON_RECORDING)

    async def record(self, agent_id: str, call_id: str, code: str, note: str) -> str | None:
        """Record `code` for the agent's call; returns why not, said for the agent."""
        agent = await self.reader.routing.agent(agent_id)
        if not call_id or agent.get("call") != call_id or \
                agent.get("state") not in ("on_call", "wrap_up"):
            return "that call is no longer yours to record: the desk shows your current one"
        key = self.reader.routing.keys.call(call_id)
        routed = await self.reader.routing.call(call_id)
        if not routed:
            return "that call's record is gone"
        before = routed.get("disposition", "")
        await self.redis.hset(key, mapping={"disposition": code, "disposition_note": note,
                                            "disposition_by": agent_id,
                                            "disposition_at": f"{self.reader.clock():.3f}"})
        if before != code:
            counters = {f"{DISPOSITION}{code}": 1}
            if before:
                counters[f"{DISPOSITION}{before}"] = -1
            await self.reader.stats.count(routed.get("queue", ""), routed.get("tier", "normal"),
                                          counters)
        index = self.reader.recordings
        await self._on_recording(keys=[index.key(call_id), index.pending_key],
                                 args=[call_id, code, note])
        return None

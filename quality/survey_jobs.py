"""Satisfaction callbacks as jobs in Redis: they survive restarts, each due job is taken
by exactly one engine instance, and a customer is never rung twice for one attempt.

A job moves: due (in the `due` set, scored by when) -> placing (taken by one engine,
in the `placing` set until its deadline) -> done, or back to due for a retry, or failed
after the last attempt. A job whose engine died while placing it comes back to due when
its deadline passes; its attempt's channel id tells whether that attempt already rang.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from quality.sampling import ServedCall

# Jobs whose engine did not report back by their deadline are due again; then up to
# ARGV[2] jobs due by ARGV[1] are taken, each into `placing` until ARGV[3].
_TAKE = """
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[1], ARGV[1], id)
end
local taken = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], ARGV[3], id)
  table.insert(taken, id)
end
return taken
"""

# Whether the number opted out, and when it was last surveyed ('' never): what the
# sampling needs to know of a caller, in one round trip.
_EXCLUSIONS = """
return {redis.call('SISMEMBER', KEYS[1], ARGV[1]), redis.call('HGET', KEYS[2], ARGV[1]) or ''}
"""


@dataclass(frozen=True, slots=True)
class SurveyCallback:
    call_id: str  # the served call the survey is about
    number: str
    agent: str
    queue: str
    attempts: int  # attempts already placed

    @property
    def channel_id(self) -> str:
        """The id of the next attempt's channel: fixed, so a retried request is known."""
        return f"{_ATTEMPT}{self.call_id}-{self.attempts + 1}"


_ATTEMPT = "survey-"


def attempt_of(channel_id: str) -> tuple[str, int] | None:
    """The served call and attempt number a survey callback's channel id names, or
    None when the channel is not a survey attempt."""
    if not channel_id.startswith(_ATTEMPT):
        return None
    call_id, _, attempt = channel_id.removeprefix(_ATTEMPT).rpartition("-")
    return (call_id, int(attempt)) if call_id and attempt.isdigit() else None


class SurveyJobs:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.base = f"{prefix}{{quality}}"
        self.due_key = f"{self.base}:callbacks:due"
        self.placing_key = f"{self.base}:callbacks:placing"
        self.do_not_call_key = f"{self.base}:do_not_call"
        self.surveyed_key = f"{self.base}:last_surveyed"
        self._take = redis.register_script(_TAKE)
        self._exclusions = redis.register_script(_EXCLUSIONS)

    def job_key(self, call_id: str) -> str:
        return f"{self.base}:callback:{call_id}"

    def result_key(self, call_id: str) -> str:
        return f"{self.base}:survey:{call_id}"

    async def exclusions(self, number: str) -> tuple[bool, float | None]:
        opted_out, last = await self._exclusions(
            keys=[self.do_not_call_key, self.surveyed_key], args=[number])
        return bool(opted_out), float(last) if last else None

    async def schedule(self, call: ServedCall, due: float) -> bool:
        """A new job; False when this call already has one (a repeated hangup event)."""
        if not await self.redis.hsetnx(self.job_key(call.call_id), "call_id", call.call_id):
            return False
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(self.job_key(call.call_id), mapping={
                "number": call.caller_number, "agent": call.agent, "queue": call.queue,
                "attempts": 0, "state": "due"})
            tx.zadd(self.due_key, {call.call_id: due})
            tx.hset(self.surveyed_key, call.caller_number, call.ended_at)
            await tx.execute()
        return True

    async def take_due(self, now: float, deadline: float, limit: int = 20) -> list[SurveyCallback]:
        """Up to `limit` jobs due by `now`, this engine's to place by `deadline`; the
        jobs a dead engine did not place by their deadline are among them."""
        ids = await self._take(keys=[self.due_key, self.placing_key],
                               args=[now, limit, deadline])
        jobs = [await self.job(i) for i in ids]
        return [j for j in jobs if j is not None]

    async def job(self, call_id: str) -> SurveyCallback | None:
        raw = cast(dict[str, str], await self.redis.hgetall(self.job_key(call_id)))
        if not raw:
            return None
        f = dict(raw)
        return SurveyCallback(f["call_id"], f["number"], f["agent"], f["queue"],
                              int(f["attempts"]))

    async def placed(self, job: SurveyCallback) -> None:
        await self.redis.hset(self.job_key(job.call_id), mapping={
            "attempts": job.attempts + 1, "state": "placing"})

    async def unanswered(self, call_id: str, retry_at: float | None, reason: str) -> None:
        async with self.redis.pipeline(transaction=True) as tx:
            tx.zrem(self.placing_key, call_id)
            if retry_at is None:
                tx.hset(self.job_key(call_id), mapping={"state": "failed", "reason": reason})
            else:
                tx.hset(self.job_key(call_id), mapping={"state": "due", "reason": reason})
                tx.zadd(self.due_key, {call_id: retry_at})
            await tx.execute()

    async def answered(self, call_id: str, grade: int | None, at: float,
                       comment: str = "") -> None:
        job = await self.job(call_id)
        async with self.redis.pipeline(transaction=True) as tx:
            tx.zrem(self.placing_key, call_id)
            tx.hset(self.job_key(call_id), mapping={"state": "done"})
            if job is not None:
                tx.hset(self.result_key(call_id), mapping={
                    "call_id": call_id, "agent": job.agent, "queue": job.queue,
                    "number": job.number, "grade": grade if grade is not None else "",
                    "comment": comment, "at": at})
            await tx.execute()

    async def everything(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """Every job and every survey result, for reports."""
        jobs, results = [], []
        async for key in self.redis.scan_iter(match=f"{self.base}:callback:*"):
            jobs.append(await self.state(key.rsplit(":", 1)[1]))
        async for key in self.redis.scan_iter(match=f"{self.base}:survey:*"):
            results.append(await self.result(key.rsplit(":", 1)[1]))
        return jobs, results

    async def result(self, call_id: str) -> dict[str, str]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.result_key(call_id)))
        return dict(raw)

    async def state(self, call_id: str) -> dict[str, str]:
        raw = cast(dict[str, str], await self.redis.hgetall(self.job_key(call_id)))
        return dict(raw)



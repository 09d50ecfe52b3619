"""The shared pipelined connection (`hotline.runtime.redis_lane`) against a real
redis-server: the same answers as redis-py's pool, each caller its own reply, a restart
and a stuck server ridden out as redis-py would, credentials and database kept, and a
blocking command kept off it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError, TimeoutError

from hotline.dev.local_redis import LocalRedis
from hotline.runtime.redis_client import connect, failed_attempts
from hotline.runtime.redis_lane import LaneRedis

pytestmark = pytest.mark.redis

_GET_OR_NIL = "return redis.call('get', KEYS[1])"


async def answers(client: LaneRedis, key: str) -> list[object]:
    """What a spread of commands answers, replies shaped by redis-py's callbacks."""
    await client.delete(f"{key}:s", f"{key}:h", f"{key}:z", f"{key}:l")
    script = client.register_script(_GET_OR_NIL)
    out: list[object] = [
        await client.set(f"{key}:s", "值 1"),
        await client.set(f"{key}:s", "x", nx=True),
        await client.get(f"{key}:s"),
        await client.get(f"{key}:missing"),
        await client.hset(f"{key}:h", mapping={"a": "1", "b": "2"}),
        await client.hgetall(f"{key}:h"),
        await client.hmget(f"{key}:h", ["a", "zz"]),
        await client.zadd(f"{key}:z", {"m": 1.5, "n": 3}),
        await client.zrange(f"{key}:z", 0, -1, withscores=True),
        await client.zscore(f"{key}:z", "n"),
        await client.expire(f"{key}:s", 60),
        await client.exists(f"{key}:s", f"{key}:missing"),
        await script(keys=[f"{key}:s"]),
    ]
    await client.script_flush()  # the script is gone: redis-py loads it again
    out.append(await script(keys=[f"{key}:s"]))
    with pytest.raises(ResponseError) as wrong:
        await client.lpush(f"{key}:s", "x")
    out.append(str(wrong.value))
    return out


async def test_the_lane_answers_as_redis_pys_pool(redis_server: LocalRedis) -> None:
    pooled = connect(redis_server.url, lane=False)
    laned = connect(redis_server.url)
    assert isinstance(laned, LaneRedis) and laned._lane is not None
    try:
        by_pool = await answers(pooled, "lane-test:pool")  # type: ignore[arg-type]
        by_lane = await answers(laned, "lane-test:lane")
    finally:
        await pooled.aclose()
        await laned.aclose()
    assert by_lane == by_pool
    assert by_lane[2] == "值 1" and by_lane[5] == {"a": "1", "b": "2"}
    assert by_lane[8] == [("m", 1.5), ("n", 3.0)]
    assert "WRONGTYPE" in str(by_lane[-1])


async def test_every_caller_gets_its_own_reply(redis_server: LocalRedis) -> None:
    client = connect(redis_server.url)
    try:
        await client.mset({f"lane-test:own:{i}": str(i) for i in range(500)})
        got = await asyncio.gather(*(client.get(f"lane-test:own:{i}") for i in range(500)))
        # A cancelled caller's reply is dropped, never handed to the next one.
        waiting = [asyncio.ensure_future(client.get(f"lane-test:own:{i}")) for i in range(50)]
        waiting[10].cancel()
        after = await asyncio.gather(*waiting, return_exceptions=True)
    finally:
        await client.aclose()
    assert got == [str(i) for i in range(500)]
    assert isinstance(after[10], asyncio.CancelledError)
    assert [a for i, a in enumerate(after) if i != 10] == [str(i) for i in range(50) if i != 10]


async def test_a_redis_restart_under_load_loses_no_command() -> None:
    server = LocalRedis().start()
    client = connect(server.url)
    try:
        await client.set("lane-test:n", 0)

        async def count(times: int) -> None:
            for _ in range(times):
                await client.incr("lane-test:n")
                await asyncio.sleep(0.002)

        load = [asyncio.ensure_future(count(200)) for _ in range(5)]
        await asyncio.sleep(0.15)
        await asyncio.to_thread(server.restart)
        await asyncio.gather(*load)
        # At least once: an INCR sent just before the restart may have been run and
        # retried. The append-only file keeps what was acknowledged.
        total = int(await client.get("lane-test:n") or 0)
        assert total >= 1000 - 5, total
        assert failed_attempts(client) > 0
    finally:
        await client.aclose()
        server.stop()


async def test_a_stuck_redis_is_a_timeout_and_the_lane_recovers() -> None:
    server = LocalRedis().start()
    pool = BlockingConnectionPool.from_url(
        server.url, socket_timeout=0.5, decode_responses=True, retry=Retry(NoBackoff(), 0))
    client = LaneRedis(connection_pool=pool)
    client.use_lane()
    assert server.process is not None
    try:
        await client.set("lane-test:stuck", "before")
        os.kill(server.process.pid, signal.SIGSTOP)
        started = time.monotonic()
        try:
            with pytest.raises(TimeoutError):
                await client.get("lane-test:stuck")
            waited = time.monotonic() - started
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        assert 0.4 < waited < 2.0, waited
        assert await client.get("lane-test:stuck") == "before"
    finally:
        await client.aclose()
        server.stop()


@pytest.fixture
async def guarded() -> AsyncIterator[LocalRedis]:
    server = LocalRedis(options=("--requirepass", "s3cret")).start()
    yield server
    server.stop()


async def test_credentials_and_database_are_the_urls(guarded: LocalRedis) -> None:
    url = f"redis://:s3cret@127.0.0.1:{guarded.port}/3"
    client, other_db = connect(url), connect(url.replace("/3", "/0"), lane=False)
    wrong = connect(f"redis://:nope@127.0.0.1:{guarded.port}/3")
    try:
        await client.set("lane-test:where", "db3")
        assert await client.get("lane-test:where") == "db3"
        assert await other_db.get("lane-test:where") is None
        with pytest.raises(AuthenticationError):
            await wrong.get("lane-test:where")
    finally:
        for c in (client, other_db, wrong):
            await c.aclose()


async def test_a_blocking_command_keeps_off_the_lane(redis_server: LocalRedis) -> None:
    client = connect(redis_server.url)
    try:
        await client.delete("lane-test:empty")
        await client.set("lane-test:quick", "yes")
        blocked = asyncio.ensure_future(client.blpop(["lane-test:empty"], timeout=2))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        assert await client.get("lane-test:quick") == "yes"
        assert time.monotonic() - started < 0.5
        assert await blocked is None
    finally:
        await client.aclose()

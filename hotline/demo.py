"""`hotline demo`: the product working on one machine, in one command.

It brings up the local Asterisk sandbox and a private Redis, serves the example config,
places a few simulated callers and prints what each of them did and heard.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from hotline import sandbox
from hotline.engine import Engine
from hotline.journal import caller_view
from hotline.local_redis import LocalRedis, free_port
from hotline.redis_client import connect
from hotline.settings import Settings
from hotline.simulate import SimulatedCaller, place_call

CALLERS = (
    SimulatedCaller(caller_number="13800000001", caller_name="Zhang Wei", keys="1"),
    SimulatedCaller(caller_number="13900000002", caller_name="Li Na", keys="7", delay=2.0),
    SimulatedCaller(caller_number="13700000003", caller_name="Wang Fang", keys=""),
)


async def run_demo(keep: bool = False) -> int:
    instance = f"demo-{os.getpid()}"
    print("starting the local Asterisk sandbox (the first run builds it, about a minute)...")
    box = await asyncio.to_thread(sandbox.start, instance, free_port(), free_port(),
                                  30000 + 2 * (os.getpid() % 5000))
    redis_server = LocalRedis().start()
    redis = connect(redis_server.url)
    settings = Settings(ami=box.ami, redis_url=redis_server.url)
    engine = Engine(settings, redis)
    try:
        await engine.start()
        print(f"engine up: AMI {box.ami.host}:{box.ami.port}, Redis {redis_server.url}\n")
        started = time.monotonic()
        call_ids = []
        for caller in CALLERS:
            call_ids.append(await place_call(engine.originator, caller))
            await asyncio.sleep(0.3)
        all_ended = await _wait_ended(engine, call_ids, timeout=40)
        for caller, call_id in zip(CALLERS, call_ids, strict=True):
            record = await engine.call_log.record(call_id)
            steps = await engine.call_log.steps(call_id)
            plan = f"presses {caller.keys}" if caller.keys else "presses nothing"
            print(f"caller {caller.caller_number} ({caller.caller_name}) dials "
                  f"{caller.dialled_number} and {plan}")
            for words in caller_view(steps):
                print(f"    {words}")
            print(f"    outcome: {record.get('outcome', 'still on the line')}\n")
        print(f"{len(call_ids)} calls served in {time.monotonic() - started:.1f}s")
        return 0 if all_ended else 1
    finally:
        await engine.stop()
        await redis.aclose()
        redis_server.stop()
        if keep:
            print(f"sandbox '{instance}' left running: deploy/asterisk/sandbox "
                  f"--instance {instance} down")
        else:
            await asyncio.to_thread(sandbox.stop, instance)


async def _wait_ended(engine: Engine, call_ids: list[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = [await engine.call_log.record(c) for c in call_ids]
        if all("ended" in r for r in records):
            return True
        await asyncio.sleep(0.2)
    logging.getLogger(__name__).error("some demo calls did not end within %ss", timeout)
    return False

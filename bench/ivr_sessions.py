"""Many callers in menus at once: the engine's CPU per menu step.

    python bench/ivr_sessions.py [--callers 500] [--latency-ms 20]

The engine runs its real path (AMI decoding, AGI pairing, the YAML menu interpreter,
billing and call records in a real redis-server) against a stand-in Asterisk in another
process. That peer announces the callers (AsyncAGIStart) and answers every AGI command
after the latency measured on the sandbox for a caller with media (20 ms), pressing the
keys a self-service caller presses: self-service, balance, back, English, balance, and
hangs up. Only the engine's process CPU is counted. Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotline.billing.redis_store import RedisBilling
from hotline.dev.local_redis import LocalRedis
from hotline.engine import Engine
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from pbx.ami import AmiSettings
from pbx.ami_codec import AmiDecoder, encode_action

# What each caller presses at each menu that asks: 1 self-service, 1 balance,
# * back to the main menu, 9 English, 1 self-service, 1 balance; then hangs up.
KEYS = ["1", "1", "*", "9", "1", "1"]


def caller_number(i: int) -> str:
    return f"138{i:08d}"


def peer(callers: int, latency: float, ready: Connection) -> None:
    asyncio.run(_peer(callers, latency, ready))


async def _peer(callers: int, latency: float, ready: Connection) -> None:
    done = asyncio.Event()

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        decoder = AmiDecoder()
        decoder.banner = ""
        pressed = dict.fromkeys(range(callers), 0)
        hung_up: set[int] = set()
        loop = asyncio.get_running_loop()

        def send(fields: dict[str, str]) -> None:
            writer.write(encode_action(fields))

        def exec_later(channel: str, command_id: str, result: str) -> None:
            loop.call_later(latency, send, {
                "Event": "AsyncAGIExec", "Channel": channel, "CommandId": command_id,
                "Result": quote(f"200 result={result}\n")})

        while data := await reader.read(65536):
            for msg in decoder.feed(data):
                action, action_id = msg.get("Action"), msg.get("ActionID", "")
                send({"Response": "Success", "ActionID": action_id, "Message": "ok"})
                if action == "Login":
                    for i in range(callers):
                        env = quote(f"agi_extension: 10000\nagi_callerid: {caller_number(i)}\n")
                        send({"Event": "AsyncAGIStart", "Channel": f"Local/c{i};2",
                              "Uniqueid": f"bench-{i}", "CallerIDNum": caller_number(i),
                              "CallerIDName": "Bench", "Exten": "10000", "Language": "en",
                              "Env": env})
                elif action == "AGI":
                    channel = msg["Channel"]
                    i = int(channel.split("/c")[1].split(";")[0])
                    command = msg["Command"]
                    if command.startswith("GET DATA"):
                        if pressed[i] < len(KEYS):
                            exec_later(channel, msg["CommandID"], KEYS[pressed[i]])
                            pressed[i] += 1
                        else:  # the caller hangs up
                            exec_later(channel, msg["CommandID"], "-1")
                            loop.call_later(latency * 2, send, {
                                "Event": "AsyncAGIEnd", "Channel": channel})
                            hung_up.add(i)
                            if len(hung_up) == callers:
                                loop.call_later(0.5, done.set)
                    else:
                        exec_later(channel, msg["CommandID"], "0")
            await writer.drain()

    async def quiet_session(reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await session(reader, writer)  # cancelled or cut when the run is over

    server = await asyncio.start_server(quiet_session, "127.0.0.1", 0)
    ready.send(server.sockets[0].getsockname()[1])
    async with server:
        await done.wait()


async def run(callers: int, latency: float) -> dict[str, float]:
    redis_server = LocalRedis().start()
    receive, send = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=peer, args=(callers, latency, send), daemon=True)
    process.start()
    port = receive.recv()
    redis = connect(redis_server.url)
    prompts = Path(tempfile.mkdtemp(prefix="bench-prompts-"))
    settings = Settings(ami=AmiSettings(port=port, secret="x", ping_interval=3600),
                        redis_url=redis_server.url, key_prefix="bench:", prompts_dir=prompts,
                        prompts_dir_asterisk=str(prompts), secret_key=b"bench")
    engine = Engine(settings, redis, watch_config=False)
    billing = RedisBilling(redis, "bench:", b"bench")
    for i in range(callers):
        await billing.open_account(caller_number(i), 10_000 + i)
    steps = 0

    def count(event: object) -> None:
        nonlocal steps
        if type(event).__name__ == "AgiCommandFinished":
            steps += 1

    engine.listeners.append(count)
    await engine.live.start(watch=False)  # renders the prompts, outside the timing
    cpu0, wall0 = time.process_time(), time.perf_counter()
    engine.queues.start()
    engine.calls.accepting = True
    engine.ami.start()
    await engine.ami.wait_up(10)
    while engine.served < callers:
        await asyncio.sleep(0.05)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    await engine.stop()
    await redis.aclose()
    redis_server.stop()
    process.join(timeout=5)
    return {"callers": callers, "steps": steps, "cpu_s": cpu, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callers", type=int, default=500)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    result = asyncio.run(run(args.callers, args.latency_ms / 1000))
    per_step = result["cpu_s"] * 1000 / result["steps"]
    print(f"{args.callers} callers in menus at once, {result['steps']:.0f} AGI steps "
          f"in {result['wall_s']:.1f}s ({args.callers / result['wall_s']:.0f} sessions/s); "
          f"engine CPU {result['cpu_s']:.2f}s = {per_step:.3f} ms per step (target < 1 ms)")
    print(json.dumps({"concurrent_sessions": args.callers,
                      "cpu_ms_per_step": round(per_step, 3)}))


if __name__ == "__main__":
    main()

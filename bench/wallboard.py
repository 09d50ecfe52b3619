"""The web side under a live floor: open wallboards and agent desks, callers arriving on
the sandbox, and how late each page hears of a change.

    python bench/wallboard.py [--wallboards 50] [--desktops 20] [--rate 10]
                              [--seconds 40] [--runs 3]

Each run starts its own Asterisk sandbox instance ("bench-web"), redis-server, one real
`hotline serve` and one real `hotline web`. Twenty agents (simulated phones that answer
at once and talk 3 s, then wrap up 2 s) serve one queue; callers arrive at `--rate` a
second and stay up to 15 s, so the line grows, callers are answered and others give
up: agents and lines change many times a second.

The pages are the wallboards' and desks' event streams, read by plain HTTP clients in
this process (as many Chromium tabs would not fit beside Asterisk on two cores), each
logged in with its own session. Read:
- the update delay: for every update a page receives, from the first change in Redis
  that it reports (the floor stream entry's id: Redis's clock at the change) to the
  moment the page holds the whole message (this process's clock; the same machine's);
- the page load time: a GET of /wallboard and of /desk, every half second, whole body;
- the web process's CPU, from /proc over the loaded window, in % of one core.
The figures are the median (and range) over the runs of each run's p50 and p99.
Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.state import Move
from hotline.dev import sandbox
from hotline.dev.configs import OPEN_ALL_WEEK
from hotline.dev.local_redis import LocalRedis, free_port
from hotline.dev.serving import ServeProcesses
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.dev.web_process import WebProcess
from hotline.runtime.redis_client import connect
from pbx.ami import AmiConnection
from pbx.originate import AmiOriginator
from routing.store import RoutingStore

PREFIX = "bench-web:"
PASSWORD = "bench password 1"
AGENTS = [str(2000 + n) for n in range(20)]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def hotline_yaml() -> str:
    agents = "".join(f'  "{a}": {{name: Agent {a}, endpoint: Local/{a}@sim-agent, '
                     f"skills: {{talk: 5}}, wrap_up: 2s}}\n" for a in AGENTS)
    return f"""\
numbers:
  unified: "10000"
  start: main
  legacy: {{"180": to_talk}}
{OPEN_ALL_WEEK}languages: {{default: en, offered: [en]}}
prompts:
  menu: {{text: {{en: Press 0 for a person.}}}}
menus:
  main: {{kind: choice, prompt: menu, timeout: 25s, keys: {{"0": to_talk}}}}
  to_talk: {{kind: queue, queue: talk}}
  survey: {{kind: hangup}}
skills:
  talk: {{name: Talk}}
agents:
{agents}queues:
  talk: {{name: Talk, skills: {{talk: 1}}}}
vip:
  lookup: customer_directory
  tiers:
    normal: {{priority: 0, max_wait: 300s}}
sampling: {{rate: 0.0, survey: survey}}
"""


# --- a small HTTP client: sessions, pages, event streams --------------------------------

async def request(port: int, method: str, path: str, cookies: dict[str, str],
                  form: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        body = "&".join(f"{k}={v}" for k, v in (form or {}).items()).encode()
        head = [f"{method} {path} HTTP/1.0", "Host: 127.0.0.1",
                "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())]
        if form is not None:
            head += ["Content-Type: application/x-www-form-urlencoded",
                     f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    header, _, content = raw.partition(b"\r\n\r\n")
    lines = header.decode().split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "set-cookie":
            cookie = value.strip().split(";")[0]
            cookies[cookie.split("=")[0]] = cookie.split("=", 1)[1]
        headers[name.lower()] = value.strip()
    return int(lines[0].split()[1]), headers, content


async def log_in(port: int, username: str) -> dict[str, str]:
    cookies: dict[str, str] = {}
    _, _, page = await request(port, "GET", "/login", cookies)
    token = re.search(rb'name="csrf" value="([^"]+)"', page)
    assert token is not None, page[:300]
    status, _, _ = await request(port, "POST", "/login", cookies, {
        "csrf": token.group(1).decode(), "username": username, "password": PASSWORD})
    if status != 303:
        raise RuntimeError(f"{username} could not log in ({status})")
    return cookies


@dataclass
class Heard:
    delays_ms: list[float] = field(default_factory=list)
    messages: int = 0
    errors: int = 0


async def follow(port: int, view: str, cookies: dict[str, str], heard: Heard,
                 stop: asyncio.Event) -> None:
    """One open page's event stream, until `stop`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    writer.write(f"GET /events?view={view} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}"
                 "\r\n\r\n".encode())
    await writer.drain()
    told: set[str] = set()
    try:
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), 1.0)
            except TimeoutError:
                continue
            if not line:
                heard.errors += 1  # the server closed a page's stream
                return
            # Chunked framing: the chunk sizes are lines of their own, and skipped.
            if not line.startswith(b"data: "):
                continue
            at = time.time() * 1000
            update = json.loads(line[6:])
            first = update.get("first", "")
            heard.messages += 1
            if first and first not in told:
                told.add(first)
                heard.delays_ms.append(at - int(first.split("-")[0]))
    finally:
        writer.close()


async def load_pages(port: int, pages: list[tuple[str, dict[str, str]]],
                     stop: asyncio.Event) -> list[float]:
    times = []
    while not stop.is_set():
        for path, cookies in pages:
            began = time.perf_counter()
            status, _, body = await request(port, "GET", path, dict(cookies))
            if status == 200 and body.endswith(b"</html>"):
                times.append((time.perf_counter() - began) * 1000)
        await asyncio.sleep(0.5)
    return times


def cpu_ticks(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


# --- one run -------------------------------------------------------------------------------

async def callers(originator: AmiOriginator, rate: float, stop: asyncio.Event) -> int:
    placed, began = 0, time.monotonic()
    while not stop.is_set():
        await place_call(originator, SimulatedCaller(
            caller_number=f"139{placed:08d}", dialled_number="180", stay=15.0,
            call_id=f"sim-{uuid.uuid4().hex[:12]}"))
        placed += 1
        await asyncio.sleep(max(0.0, began + placed / rate - time.monotonic()))
    return placed


async def one_run(args: argparse.Namespace, scratch: Path) -> dict[str, float]:
    box = await asyncio.to_thread(sandbox.start, "bench-web", free_port(), free_port(), 34000)
    server = LocalRedis().start()
    redis = connect(server.url)
    ami = AmiConnection(box.ami, lambda _event: None)
    config = scratch / "hotline.yaml"
    config.write_text(hotline_yaml())
    serving = ServeProcesses(sandbox.serve_environment(box, server.url, PREFIX, config),
                             PREFIX, scratch, redis, name="web-bench")
    web = WebProcess(server.url, PREFIX, scratch / "web.log")
    stop = asyncio.Event()
    try:
        ami.start()
        await ami.wait_up(30)
        await serving.start()
        await web.start()
        await web.add_account("sue", "supervisor", PASSWORD)
        for agent in AGENTS:
            await web.add_account(f"a{agent}", "agent", PASSWORD, agent)
        store = RoutingStore(redis, PREFIX)
        for agent in AGENTS:
            await store.apply(agent, Move.LOG_IN, time.time())
            await store.apply(agent, Move.GO_READY, time.time())
        boards = [await log_in(web.port, "sue") for _ in range(args.wallboards)]
        desks = [await log_in(web.port, f"a{AGENTS[n % len(AGENTS)]}")
                 for n in range(args.desktops)]
        heard = Heard()
        pages = [asyncio.create_task(follow(web.port, "wallboard", c, heard, stop))
                 for c in boards]
        pages += [asyncio.create_task(follow(web.port, "desk", c, heard, stop)) for c in desks]
        flow = asyncio.create_task(callers(AmiOriginator(ami), args.rate, stop))
        await asyncio.sleep(args.warm_up)
        heard.delays_ms.clear()
        assert web.proc is not None
        ticks, began = cpu_ticks(web.proc.pid), time.monotonic()
        loads = asyncio.create_task(load_pages(
            web.port, [("/wallboard", boards[0]), ("/desk", desks[0])], stop))
        await asyncio.sleep(args.seconds)
        cpu = (cpu_ticks(web.proc.pid) - ticks) / CLK_TCK / (time.monotonic() - began) * 100
        stop.set()
        placed = await flow
        load_ms = await loads
        await asyncio.gather(*pages)
        tracebacks = web.tracebacks() + serving.tracebacks()
        figures = {"update_p50_ms": percentile(heard.delays_ms, 0.5),
                   "update_p99_ms": percentile(heard.delays_ms, 0.99),
                   "page_load_p50_ms": percentile(load_ms, 0.5),
                   "web_cpu_percent": cpu, "updates": float(len(heard.delays_ms)),
                   "messages": float(heard.messages), "stream_errors": float(heard.errors),
                   "calls_placed": float(placed), "tracebacks": float(tracebacks)}
        print("  run: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()), flush=True)
        return figures
    finally:
        stop.set()
        await web.stop()
        await serving.stop()
        await sandbox.hang_up_everyone(ami)
        await ami.close()
        await redis.aclose()
        server.stop()
        await asyncio.to_thread(sandbox.stop, "bench-web")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wallboards", type=int, default=50)
    parser.add_argument("--desktops", type=int, default=20)
    parser.add_argument("--rate", type=float, default=10.0, help="callers a second")
    parser.add_argument("--seconds", type=float, default=40.0, help="the measured window")
    parser.add_argument("--warm-up", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        print(f"run {n + 1} of {args.runs}: {args.wallboards} wallboards, {args.desktops} "
              f"desks, {args.rate:g} callers/s for {args.seconds:g}s", flush=True)
        with tempfile.TemporaryDirectory(prefix="bench-web-") as scratch:
            runs.append(await one_run(args, Path(scratch)))
    summary: dict[str, object] = {"wallboards": args.wallboards, "desktops": args.desktops}
    for name in ("update_p50_ms", "update_p99_ms", "page_load_p50_ms", "web_cpu_percent"):
        values = [r[name] for r in runs]
        summary[name] = round(statistics.median(values), 1)
        summary[f"{name}_range"] = [round(min(values), 1), round(max(values), 1)]
    summary["runs"] = args.runs
    summary["updates_per_run"] = [int(r["updates"]) for r in runs]
    summary["stream_errors"] = int(sum(r["stream_errors"] for r in runs))
    summary["tracebacks"] = int(sum(r["tracebacks"] for r in runs))
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())

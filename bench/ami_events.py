"""AMI events per second through the engine's adapter, against a bare parser ceiling.

    python bench/ami_events.py [--events 100000] [--rounds 3]

A peer process on 127.0.0.1 answers the login and then sends one byte stream: real
Asterisk 22 events (from tests/data/first_call.ami) repeated with fresh ids and
Chinese caller names, 100,000 events by default, and a final sentinel event. Three
readers take the same stream in turn, in the same run:
- ceiling: a bare asyncio protocol that splits on the blank line and builds a dict;
- adapter: the engine's AmiConnection (decoder, translation to typed events, dispatch);
- panoramisk: panoramisk's own Manager with one registered handler, for reference.
Each round runs the three once, interleaved, so machine noise hits them alike. Reported
are the median over `--rounds` and the range (lowest, highest) of each rate, and of the
adapter's ratio to the ceiling taken round by round; the last line is the JSON figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import socket
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pbx.ami import AmiConnection, AmiSettings
from pbx.ami_codec import AmiDecoder, Message
from pbx.events import PbxEvent, UserEventReceived

RECORDED = Path(__file__).resolve().parent.parent / "tests" / "data" / "first_call.ami"
SENTINEL = b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: BenchEnd\r\n\r\n"
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "José Núñez", "Zhang Wei", "赵磊"]


def build_stream(count: int) -> bytes:
    """`count` events shaped like Asterisk 22's, ids and names varied per copy."""
    decoder = AmiDecoder()
    events = [m for m in decoder.feed(RECORDED.read_bytes()) if "Event" in m]
    out = bytearray()
    n = 0
    copy = 0
    while n < count:
        copy += 1
        name = NAMES[copy % len(NAMES)]
        for event in events:
            if n >= count:
                break
            lines = []
            for key, value in event.items():
                if key in ("Uniqueid", "Linkedid"):
                    value = f"{value}-{copy}"
                elif key in ("CallerIDName", "ConnectedLineName"):
                    value = name
                lines.append(f"{key}: {value}")
            out += ("\r\n".join(lines) + "\r\n\r\n").encode()
            n += 1
    return bytes(out) + SENTINEL


def serve(stream: bytes, ready: Connection) -> None:
    """The peer: for each connection, banner, answer the login, then the stream."""
    server = socket.create_server(("127.0.0.1", 0))
    ready.send(server.getsockname()[1])
    while True:
        conn, _ = server.accept()
        with conn:
            conn.sendall(b"Asterisk Call Manager/11.0.0\r\n")
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            if request.startswith(b"QUIT"):
                return
            action_id = ""
            for line in request.decode().split("\r\n"):
                if line.lower().startswith("actionid: "):
                    action_id = line.split(": ", 1)[1]
            conn.sendall(f"Response: Success\r\nActionID: {action_id}\r\n"
                         "Message: Authentication accepted\r\n\r\n".encode())
            conn.sendall(stream)
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass


class Ceiling(asyncio.Protocol):
    def __init__(self, done: asyncio.Future[float]) -> None:
        self.done = done
        self.buffer = b""
        self.count = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(b"Action: Login\r\nActionID: 1\r\n\r\n")  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        parts = (self.buffer + data).split(b"\r\n\r\n")
        self.buffer = parts.pop()
        for part in parts:
            message = {}
            for line in part.decode("utf-8", "replace").split("\r\n"):
                key, _, value = line.partition(": ")
                message[key] = value
            self.count += 1
            if message.get("UserEvent") == "BenchEnd" and not self.done.done():
                self.done.set_result(time.perf_counter())


async def run_ceiling(port: int) -> float:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    start = time.perf_counter()
    transport, _ = await loop.create_connection(lambda: Ceiling(done), "127.0.0.1", port)
    end = await done
    transport.close()
    return end - start


async def run_adapter(port: int) -> float:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()

    def on_event(event: PbxEvent) -> None:
        if (isinstance(event, UserEventReceived) and event.name == "BenchEnd"
                and not done.done()):
            done.set_result(time.perf_counter())

    ami = AmiConnection(AmiSettings(port=port, secret="x", ping_interval=3600), on_event)
    start = time.perf_counter()
    ami.start()
    end = await done
    await ami.close()
    return end - start


async def run_panoramisk(port: int) -> float:
    from panoramisk import Manager  # type: ignore[import-untyped]

    loop = asyncio.get_running_loop()
    done: asyncio.Future[float] = loop.create_future()
    manager = Manager(loop=loop, host="127.0.0.1", port=port, username="u", secret="x",
                      ping_delay=3600)

    def on_event(_manager: object, event: Message) -> None:
        if event.get("UserEvent") == "BenchEnd" and not done.done():
            done.set_result(time.perf_counter())

    manager.register_event("*", on_event)
    start = time.perf_counter()
    manager.connect()
    end = await done
    manager.close()
    return end - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    stream = build_stream(args.events)
    total = args.events + 1
    receive, send = multiprocessing.Pipe(duplex=False)
    peer = multiprocessing.Process(target=serve, args=(stream, send), daemon=True)
    peer.start()
    port = receive.recv()
    runners = {"ceiling": run_ceiling, "adapter": run_adapter, "panoramisk": run_panoramisk}
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for round_no in range(args.rounds):
        for name, runner in runners.items():  # interleaved: machine noise hits all alike
            seconds = asyncio.run(runner(port))
            rate = total / seconds
            rates[name].append(rate)
            print(f"round {round_no + 1} {name:>10}: {rate:>10,.0f} events/s")
    with socket.create_connection(("127.0.0.1", port)) as quit_conn:
        quit_conn.recv(100)
        quit_conn.sendall(b"QUIT\r\n\r\n")
    peer.join(timeout=5)
    # A round's adapter and ceiling ran back to back: their ratio is the fair one.
    ratios = [a / c for a, c in zip(rates["adapter"], rates["ceiling"], strict=True)]
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"stream: {args.events:,} events, {len(stream) / 1e6:.1f} MB; "
          f"panoramisk Manager: {median['panoramisk']:,.0f} events/s "
          f"({median['panoramisk'] / median['ceiling']:.0%} of the ceiling), "
          f"median of {args.rounds} rounds")
    print(json.dumps({
        "adapter_events_per_s": round(median["adapter"]),
        "ceiling_events_per_s": round(median["ceiling"]),
        "ratio": round(statistics.median(ratios), 3),
        "adapter_range": [round(min(rates["adapter"])), round(max(rates["adapter"]))],
        "ceiling_range": [round(min(rates["ceiling"])), round(max(rates["ceiling"]))],
        "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
    }))


if __name__ == "__main__":
    main()

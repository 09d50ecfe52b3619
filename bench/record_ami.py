"""Record the raw AMI byte stream of a sandbox while the demo's kind of call runs.

    python bench/record_ami.py --port 5038 --secret S --seconds 15 OUT.ami

The file is what Asterisk sent, byte for byte (after the login), for replay tests and
for the event-rate benchmark.
"""

from __future__ import annotations

import argparse
import socket
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--port", type=int, default=5038)
    parser.add_argument("--user", default="hotline")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    with socket.create_connection(("127.0.0.1", args.port)) as sock, open(args.out, "wb") as out:
        sock.sendall(f"Action: Login\r\nUsername: {args.user}\r\nSecret: {args.secret}\r\n"
                     "ActionID: rec-login\r\n\r\n".encode())
        sock.settimeout(0.5)
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                break
            out.write(data)


if __name__ == "__main__":
    main()

"""The web process's root: one Redis client, the web side wired on it, twisted.web
listening on the asyncio reactor, and the live updates following the floor."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from hotline.runtime.redis_client import connect

log = logging.getLogger(__name__)


def serve_web(redis_url: str, prefix: str, host: str, port: int,
              tls: tuple[str, str] | None = None, recordings_dir: Path | None = None) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit code. `tls`: the certificate
    and key files (PEM), to serve HTTPS (the session cookie is then Secure)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    from twisted.internet import asyncioreactor

    asyncioreactor.install(loop)  # type: ignore[no-untyped-call]
    from twisted.internet import reactor as installed
    from twisted.internet.defer import Deferred
    from twisted.web.server import Site

    reactor: Any = installed  # twisted types the reactor as its interfaces, not as one

    from web.handlers import WebSide
    from web.server import HotlineSite

    redis = connect(redis_url)
    side = WebSide(redis, prefix, recordings_dir=recordings_dir)
    site = Site(HotlineSite(side))  # type: ignore[no-untyped-call]
    site.displayTracebacks = False
    try:
        if tls is None:
            listening = reactor.listenTCP(port, site, interface=host)
        else:
            from twisted.internet import ssl

            context = ssl.DefaultOpenSSLContextFactory(  # type: ignore[no-untyped-call]
                tls[1], tls[0])
            listening = reactor.listenSSL(port, site, context, interface=host)
    except Exception as exc:  # the port is taken or not ours; an unreadable certificate
        print(f"hotline web: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    bound = listening.getHost()
    scheme = "http" if tls is None else "https"
    print(f"hotline web: {scheme}://{bound.host}:{bound.port}/ (Redis prefix {prefix})",
          flush=True)

    async def stop() -> None:
        await side.live.stop()
        await redis.aclose()

    def shut_down() -> None:
        reactor.callLater(0, reactor.stop)

    reactor.callWhenRunning(side.live.start)
    # Twisted waits for the Deferred before it stops: the stream reader and the
    # connections close first.
    reactor.addSystemEventTrigger(
        "before", "shutdown", lambda: Deferred.fromFuture(asyncio.ensure_future(stop())))
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, shut_down)
    reactor.run(installSignalHandlers=False)
    return 0

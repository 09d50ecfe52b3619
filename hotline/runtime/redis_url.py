"""The Redis URL an operator writes, read without connecting anywhere.

One URL says where Redis is. `redis://`, `rediss://` and `unix://` name one server, as
redis-py reads them. `redis+sentinel://` names the Sentinels that watch a master:

    redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/MASTER[/DB]
                     [?sentinel_password=PASSWORD]

HOST:PORT are Sentinels (port 26379 when left out), MASTER is the name the Sentinels
monitor it under (`sentinel monitor MASTER ...` in sentinel.conf), DB the database (0
when left out). USER and PASSWORD are the master's (its `requirepass`); a Sentinel
that has a `requirepass` of its own takes `sentinel_password`. Every connection asks a
Sentinel where the master is before it connects, so after a failover the engine's next
command reaches the newly promoted master, without a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

SENTINEL_SCHEME = "redis+sentinel"
SENTINEL_PORT = 26379
PLAIN_SCHEMES = ("redis", "rediss", "unix")
SENTINEL_FORM = ("redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]"
                 "/MASTER[/DB]")


class RedisUrlError(ValueError):
    """A Redis URL that cannot be used; the message never holds its password."""


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """A `redis+sentinel://` URL, read."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def where(url: str) -> str:
    """Where the URL points, for messages: never the password it may hold."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "an unreadable URL"
    hosts = parts.netloc.rpartition("@")[2]
    if parts.scheme == SENTINEL_SCHEME:
        master, _, db = parts.path.strip("/").partition("/")
        return f"master {master or '?'}{f' db {db}' if db else ''} via Sentinel {hosts}"
    if parts.scheme == "unix":
        return parts.path
    try:
        port = parts.port
    except ValueError:
        return hosts + parts.path
    return f"{parts.hostname or '127.0.0.1'}:{port or 6379}{parts.path}"


def redacted(url: str) -> str:
    """The URL with its passwords (the master's, the Sentinels') as `***`."""
    scheme, colon_slashes, rest = url.partition("://")
    if not colon_slashes:
        return "***" if "@" in url else url
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":***"
    tail = re.sub(r"(?i)((?:^|[?&])(?:sentinel_)?password=)[^&#]*", r"\1***", tail)
    return f"{scheme}://{userinfo}{at}{hosts}{slash}{tail}"


def read_sentinel_url(url: str) -> SentinelUrl | None:
    """The Sentinels, master and database a `redis+sentinel://` URL names; None for a
    URL of one server. Raises RedisUrlError, saying what is wrong, for a URL that is
    neither or is not well formed."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise RedisUrlError(f"the Redis URL cannot be read ({exc}); write redis://HOST:PORT/DB "
                            f"or {SENTINEL_FORM}, an IPv6 host as [ADDRESS]") from None
    if parts.scheme in PLAIN_SCHEMES:
        return None
    if parts.scheme != SENTINEL_SCHEME:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise RedisUrlError(
            f"the Redis URL starts with {shown}: it must start with redis://, rediss://, "
            f"unix:// (one Redis) or {SENTINEL_SCHEME}:// (Redis Sentinel, {SENTINEL_FORM})")

    def bad(why: str) -> RedisUrlError:
        return RedisUrlError(f"the Redis Sentinel URL {redacted(url)} {why}; "
                             f"the form is {SENTINEL_FORM}")

    userinfo, at, hosts = parts.netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")  # as redis-py reads redis://
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    sentinels = tuple(_sentinel_address(one, bad) for one in hosts.split(","))

    path = [unquote(part) for part in parts.path.strip("/").split("/")] \
        if parts.path.strip("/") else []
    if not path:
        raise bad("names no master: add /MASTER, the name in `sentinel monitor MASTER ...`")
    if len(path) > 2 or not all(path):
        raise bad(f"has the path {parts.path!r}, not /MASTER or /MASTER/DB")
    if len(path) == 1 and path[0].isdigit():
        raise bad(f"has /{path[0]}, a database number, where the master's name goes")
    db = 0
    if len(path) == 2:
        if not path[1].isdigit():
            raise bad(f"has the database {path[1]!r}: a database is a number (0, 1, ...)")
        db = int(path[1])

    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"sentinel_password"})
    if unknown:
        raise bad(f"has the option(s) {', '.join(unknown)}: the only option is "
                  "sentinel_password")
    sentinel_password = query.get("sentinel_password", [None])[-1]
    if parts.fragment:
        raise bad("has a #fragment")
    return SentinelUrl(sentinels, path[0], db, username, password, sentinel_password)


def _sentinel_address(text: str, bad: Callable[[str], RedisUrlError]) -> tuple[str, int]:
    if not text:
        raise bad("has an empty Sentinel address (two commas, or none at all)")
    if text.startswith("["):  # [IPv6] or [IPv6]:PORT
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise bad(f"has the Sentinel address {text!r}: write [IPV6]:PORT")
        port_text = rest[1:] if rest else ""
    else:
        host, colon, port_text = text.rpartition(":")
        if not colon:
            host, port_text = text, ""
    if not host:
        raise bad(f"has the Sentinel address {text!r} without a host")
    if not port_text:
        return host, SENTINEL_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise bad(f"has the Sentinel address {text!r}: its port is not a port number")
    return host, int(port_text)

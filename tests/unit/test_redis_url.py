"""The Redis URL an operator writes: one server as redis-py reads it, or Sentinels and
the master they watch. A URL that cannot work is refused with what is wrong in it and
the form to write, never with its password."""

from __future__ import annotations

import pytest
from redis.asyncio import BlockingConnectionPool
from redis.asyncio.sentinel import SentinelManagedConnection

from hotline.runtime.redis_client import BlockingSentinelConnectionPool, connect
from hotline.runtime.redis_url import (
    RedisUrlError,
    SentinelUrl,
    read_sentinel_url,
    redacted,
    where,
)


def test_a_url_of_one_redis_is_read_as_before() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://:pw@redis:6380/2", "unix:///run/r.sock"):
        assert read_sentinel_url(url) is None
    client = connect("redis://:secret@redis.example:6380/3")
    pool = client.connection_pool
    assert type(pool) is BlockingConnectionPool
    kwargs = pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == \
        ("redis.example", 6380, 3, "secret")
    assert kwargs["decode_responses"] is True
    assert pool.max_connections == 64


def test_sentinels_master_and_database() -> None:
    assert read_sentinel_url(
        "redis+sentinel://10.0.0.1:26379,10.0.0.2:26380,sentinel-c/hotline/2") == SentinelUrl(
        sentinels=(("10.0.0.1", 26379), ("10.0.0.2", 26380), ("sentinel-c", 26379)),
        master="hotline", db=2)


def test_the_database_defaults_to_0_and_ipv6_sentinels_are_bracketed() -> None:
    read = read_sentinel_url("redis+sentinel://[::1]:26390,[fd00::2]/main/")
    assert read == SentinelUrl(sentinels=(("::1", 26390), ("fd00::2", 26379)), master="main")


def test_passwords_for_the_master_and_for_the_sentinels() -> None:
    read = read_sentinel_url(
        "redis+sentinel://engine:p%40ss@s1:26379/hotline/0?sentinel_password=s%26cret")
    assert read is not None
    assert (read.username, read.password, read.sentinel_password) == \
        ("engine", "p@ss", "s&cret")
    read = read_sentinel_url("redis+sentinel://:only-password@s1/hotline")
    assert read is not None and (read.username, read.password) == (None, "only-password")


def test_a_sentinel_url_gives_a_client_of_the_master_through_a_bounded_pool() -> None:
    client = connect("redis+sentinel://:pw@s1:26379,s2:26379/hotline/1?sentinel_password=sp",
                     max_connections=8)
    pool = client.connection_pool
    assert isinstance(pool, BlockingSentinelConnectionPool)
    assert isinstance(pool, BlockingConnectionPool)  # callers wait for a free connection
    assert pool.is_master and pool.service_name == "hotline"
    assert pool.max_connections == 8 and pool.timeout == 5
    assert pool.connection_class is SentinelManagedConnection
    kwargs = pool.connection_kwargs
    assert (kwargs["db"], kwargs["password"], kwargs["decode_responses"]) == (1, "pw", True)
    assert kwargs["retry"].get_retries() == 8  # the same retries as for one Redis
    sentinels = [s.connection_pool.connection_kwargs for s in pool.sentinel_manager.sentinels]
    assert [(s["host"], s["port"], s["password"]) for s in sentinels] == \
        [("s1", 26379, "sp"), ("s2", 26379, "sp")]


@pytest.mark.parametrize(("url", "says"), [
    ("redis+sentinel://s1:26379", "names no master"),
    ("redis+sentinel://s1:26379/0", "a database number, where the master's name goes"),
    ("redis+sentinel://s1:26379/hotline/zero", "a database is a number"),
    ("redis+sentinel://s1:26379/hotline/0/1", "not /MASTER or /MASTER/DB"),
    ("redis+sentinel://s1:26379,,s2/hotline", "empty Sentinel address"),
    ("redis+sentinel:///hotline", "empty Sentinel address"),
    ("redis+sentinel://s1:263790/hotline", "its port is not a port number"),
    ("redis+sentinel://s1:port/hotline", "its port is not a port number"),
    ("redis+sentinel://[::1/hotline", "cannot be read"),
    ("redis+sentinel://[::1]26379/hotline", "write [IPV6]:PORT"),
    ("redis+sentinel://:26379/hotline", "without a host"),
    ("redis+sentinel://s1/hotline?db=2", "the only option is sentinel_password"),
    ("sentinel://s1:26379/hotline", "must start with redis://"),
    ("127.0.0.1:6379", "no scheme"),
])
def test_a_bad_url_says_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(RedisUrlError) as raised:
        connect(url)
    assert says in str(raised.value)


def test_the_sentinel_form_is_shown_and_the_password_never() -> None:
    with pytest.raises(RedisUrlError) as raised:
        connect("redis+sentinel://:hunter2@s1:26379,s2:26379/0")
    message = str(raised.value)
    assert "hunter2" not in message
    assert "redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/MASTER[/DB]" \
        in message
    assert "s1:26379,s2:26379" in message


def test_a_url_shown_in_a_message_hides_its_passwords() -> None:
    assert redacted("redis+sentinel://engine:pw@s1,s2/hotline/0?sentinel_password=sp") == \
        "redis+sentinel://engine:***@s1,s2/hotline/0?sentinel_password=***"
    assert redacted("redis://:pw@redis:6379/0") == "redis://:***@redis:6379/0"
    assert redacted("redis://redis:6379/0?password=pw&db=1") == \
        "redis://redis:6379/0?password=***&db=1"
    assert redacted("unix:///run/r.sock?password=pw") == "unix:///run/r.sock?password=***"
    assert redacted("redis://user@redis/0") == "redis://user@redis/0"


def test_a_bad_url_of_one_redis_is_refused_without_its_password() -> None:
    with pytest.raises(RedisUrlError) as raised:
        connect("redis://:hunter2@redis:notaport/0")
    assert "hunter2" not in str(raised.value)


def test_where_a_url_points_without_its_password() -> None:
    assert where("redis://:pw@redis.example:6380/2") == "redis.example:6380/2"
    assert where("redis://localhost") == "localhost:6379"
    assert where("redis+sentinel://:pw@s1:26379,s2:26380/hotline/0") == \
        "master hotline db 0 via Sentinel s1:26379,s2:26380"
    assert where("redis+sentinel://s1/hotline") == "master hotline via Sentinel s1"
    assert where("unix:///run/redis.sock") == "/run/redis.sock"

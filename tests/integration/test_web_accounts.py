"""The web side's accounts, sessions and audit in a real Redis, through `hotline users` as
an admin runs it: every key they leave goes by itself."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import pytest
from redis.asyncio import Redis

from hotline.settings import Settings
from web.account_store import (
    ACCOUNT_KEPT,
    DISABLED_KEPT,
    SESSION_IDLE,
    THROTTLE_WINDOW,
    AccountStore,
    LoginRefused,
    Session,
)
from web.accounts import AccountError, Role

pytestmark = [pytest.mark.redis]

PASSWORD = "a long enough one"


async def users(settings: Settings, *args: str, password: str = "") -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hotline", "users", *args,
        env={**os.environ, "HOTLINE_REDIS_URL": settings.redis_url,
             "HOTLINE_KEY_PREFIX": settings.key_prefix},
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    out, _ = await proc.communicate(f"{password}\n".encode())
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def ttls(redis: Redis, prefix: str) -> dict[str, int]:
    return {str(key): int(await redis.ttl(key))
            async for key in redis.scan_iter(f"{prefix}{{web}}:*")}


async def test_accounts_from_the_cli_and_what_each_change_does_to_sessions(
        settings: Settings, redis: Redis) -> None:
    store = AccountStore(redis, settings.key_prefix)
    code, out = await users(settings, "add", "zhou", "--role", "agent", "--agent", "1001",
                            "--password-stdin", password=PASSWORD)
    assert code == 0 and "added zhou (agent)" in out
    code, out = await users(settings, "add", "zhou", "--role", "agent", "--agent", "1001",
                            "--password-stdin", password=PASSWORD)
    assert code == 1 and "already an account 'zhou'" in out
    code, out = await users(settings, "add", "sue", "--role", "supervisor",
                            "--password-stdin", password="short")
    assert code == 1 and "at least 10 characters" in out
    code, out = await users(settings, "add", "wu", "--role", "agent", "--password-stdin",
                            password=PASSWORD)
    assert code == 1 and "--agent" in out

    session = await store.log_in("zhou", PASSWORD, "10.0.0.7")
    assert isinstance(session, Session) and session.account.agent_id == "1001"
    assert await store.session(session.token) is not None
    code, _ = await users(settings, "passwd", "zhou", "--password-stdin",
                          password="a new long password")
    assert code == 0
    assert await store.session(session.token) is None  # a new password ends the sessions
    assert isinstance(await store.log_in("zhou", PASSWORD, "10.0.0.7"), LoginRefused)
    again = await store.log_in("zhou", "a new long password", "10.0.0.7")
    assert isinstance(again, Session)

    code, out = await users(settings, "list")
    assert code == 0 and "zhou" in out and "agent" in out and "active" in out
    code, _ = await users(settings, "disable", "zhou")
    assert code == 0
    assert await store.session(again.token) is None
    refused = await store.log_in("zhou", "a new long password", "10.0.0.7")
    assert isinstance(refused, LoginRefused) and refused.why == "wrong username or password"
    code, out = await users(settings, "list")
    assert "disabled" in out
    code, out = await users(settings, "disable", "nobody")
    assert code == 1 and "no account 'nobody'" in out

    kept = await ttls(redis, settings.key_prefix)
    assert all(ttl > 0 or key.endswith(":audit") for key, ttl in kept.items()), kept
    assert 0 < kept[f"{settings.key_prefix}{{web}}:user:zhou"] <= DISABLED_KEPT
    assert any(0 < t <= THROTTLE_WINDOW for k, t in kept.items() if ":failed:" in k)
    trail = await store.audit_trail()
    assert [e["what"] for e in reversed(trail)] == [
        "account added", "password set", "account disabled"]


async def test_sessions_idle_out_and_the_audit_trims_itself(
        settings: Settings, redis: Redis) -> None:
    now = [1_800_000_000.0]
    store = AccountStore(redis, settings.key_prefix, clock=lambda: now[0])
    await store.add("sue", Role.SUPERVISOR, PASSWORD)
    with pytest.raises(AccountError):
        await store.add("Sue", Role.SUPERVISOR, PASSWORD)
    session = await store.log_in("sue", PASSWORD, "10.0.0.8")
    assert isinstance(session, Session)
    key = next(k for k in await ttls(redis, settings.key_prefix) if ":session:" in k)
    assert 0 < int(await redis.ttl(key)) <= SESSION_IDLE
    assert session.token not in key  # Redis keeps only the token's hash
    now[0] += 13 * 3600  # past the longest a session lives, however busy
    assert await store.session(session.token) is None
    assert 0 < int(await redis.ttl(f"{settings.key_prefix}{{web}}:user:sue")) <= ACCOUNT_KEPT

    # An entry from 401 days ago (the stream's ids are Redis's clock) goes at the next.
    await redis.xadd(store.audit_key, {"what": "old"},
                     id=f"{int((time.time() - 401 * 86400) * 1000)}-0")
    await store.audit("sue", "10.0.0.8", "new")
    assert [e["what"] for e in await store.audit_trail()] == ["new"]

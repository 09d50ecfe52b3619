"""Accounts, login sessions, the login throttle and the audit trail, in Redis.

Keys carry the hash tag `{web}`. Each one goes by itself:
- an account lapses a year after its last login or change (a dormant account is a door
  nobody watches); a disabled one after 90 days;
- a session after `SESSION_IDLE` without a request, and `SESSION_LONGEST` after login
  whatever happens;
- the failed-login counters after `THROTTLE_WINDOW`;
- audit entries older than `AUDIT_KEPT_DAYS` are trimmed at each new entry.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis

from quality.coaching import PhoneRefused, check_phone
from web.accounts import (
    DECOY_HASH,
    Account,
    AccountError,
    Role,
    check_password,
    check_username,
    hash_password,
    password_matches,
)

ACCOUNT_KEPT = 365 * 86400
DISABLED_KEPT = 90 * 86400
SESSION_IDLE = 4 * 3600
SESSION_LONGEST = 12 * 3600
THROTTLE_WINDOW = 15 * 60
FAILURES_PER_USER = 5  # in the window, then that username is refused until it ends
FAILURES_PER_ADDRESS = 20
AUDIT_KEPT_DAYS = 400


# An audit entry, and the entries older than the retention trimmed, by Redis's own clock
# (the stream's ids are Redis's time). ARGV: how long entries are kept (ms), then fields.
_AUDIT = """
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('XADD', KEYS[1], 'MINID', now_ms - tonumber(ARGV[1]), '*', unpack(ARGV, 2))
"""


@dataclass(frozen=True, slots=True)
class Session:
    token: str  # what the cookie holds; Redis keeps only its hash
    account: Account
    csrf: str
    started: float


@dataclass(frozen=True, slots=True)
class LoginRefused:
    why: str  # said to the person: never which of name or password was wrong
    throttled: bool = False


class AccountStore:
    def __init__(self, redis: Redis, prefix: str,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.base = f"{prefix}{{web}}"
        self.clock = clock
        self._audit = redis.register_script(_AUDIT)

    def _user(self, username: str) -> str:
        return f"{self.base}:user:{username}"

    @property
    def _users(self) -> str:
        return f"{self.base}:users"

    def _session(self, token: str) -> str:
        return f"{self.base}:session:{hashlib.sha256(token.encode()).hexdigest()}"

    @property
    def audit_key(self) -> str:
        return f"{self.base}:audit"

    # --- accounts -------------------------------------------------------------------

    async def add(self, username: str, role: Role, password: str, agent_id: str = "",
                  name: str = "", phone: str = "") -> Account:
        check_username(username)
        check_password(password)
        if role is Role.AGENT and not agent_id:
            raise AccountError("an agent's account needs the agent's id (--agent)")
        if phone:
            _check_phone(phone)
        fields = {"role": role.value, "agent_id": agent_id, "name": name, "phone": phone,
                  "hash": hash_password(password), "disabled": "",
                  "changed": f"{self.clock():.0f}"}
        if not await self.redis.hsetnx(self._user(username), "created",
                                       f"{self.clock():.0f}"):
            raise AccountError(f"there is already an account '{username}'")
        await self._write(username, fields, ACCOUNT_KEPT)
        return Account(username, role, agent_id, False, name, phone)

    async def set_phone(self, username: str, phone: str) -> None:
        """The phone that rings when this person listens in ("" for none)."""
        if phone:
            _check_phone(phone)
        await self._existing(username)
        await self._write(username, {"phone": phone, "changed": f"{self.clock():.0f}"},
                          ACCOUNT_KEPT)

    async def set_password(self, username: str, password: str) -> None:
        check_password(password)
        await self._existing(username)
        await self._write(username, {"hash": hash_password(password),
                                     "changed": f"{self.clock():.0f}"}, ACCOUNT_KEPT)
        await self._end_sessions_of(username)

    async def disable(self, username: str) -> None:
        await self._existing(username)
        await self._write(username, {"disabled": "1", "changed": f"{self.clock():.0f}"},
                          DISABLED_KEPT)
        await self._end_sessions_of(username)

    async def account(self, username: str) -> Account | None:
        fields = cast(dict[str, str], await self.redis.hgetall(self._user(username)))
        return _account(username, fields)

    async def accounts(self) -> list[tuple[Account, float]]:
        """Every account, with when it lapses."""
        now = self.clock()
        await self.redis.zremrangebyscore(self._users, "-inf", now)
        listed = cast(list[tuple[str, float]],
                      await self.redis.zrange(self._users, 0, -1, withscores=True))
        found = []
        for username, lapses in listed:
            account = await self.account(str(username))
            if account is not None:
                found.append((account, float(lapses)))
        return found

    async def _existing(self, username: str) -> Account:
        account = await self.account(username)
        if account is None:
            raise AccountError(f"there is no account '{username}'")
        return account

    async def _write(self, username: str, fields: dict[str, str], kept: int) -> None:
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(self._user(username), mapping=cast(Any, fields))
            tx.expire(self._user(username), kept)
            tx.zadd(self._users, {username: self.clock() + kept})
            tx.zremrangebyscore(self._users, "-inf", self.clock())
            tx.expire(self._users, ACCOUNT_KEPT)
            await tx.execute()

    # --- login and sessions ----------------------------------------------------------

    async def log_in(self, username: str, password: str,
                     address: str) -> Session | LoginRefused:
        by_user = f"{self.base}:failed:user:{username}"
        by_address = f"{self.base}:failed:from:{address}"
        counts = await self.redis.mget(by_user, by_address)
        if int(counts[0] or 0) >= FAILURES_PER_USER or \
                int(counts[1] or 0) >= FAILURES_PER_ADDRESS:
            return LoginRefused("too many failed logins: wait 15 minutes", throttled=True)
        fields = cast(dict[str, str], await self.redis.hgetall(self._user(username)))
        account = _account(username, fields)
        matches = password_matches(password, fields.get("hash", DECOY_HASH))
        if account is None or not matches or account.disabled:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key in (by_user, by_address):
                    pipe.incr(key)
                    pipe.expire(key, THROTTLE_WINDOW)
                await pipe.execute()
            return LoginRefused("wrong username or password")
        await self.redis.delete(by_user)
        await self._write(username, {"last_login": f"{self.clock():.0f}"}, ACCOUNT_KEPT)
        token = secrets.token_urlsafe(32)
        session = Session(token, account, secrets.token_urlsafe(24), self.clock())
        async with self.redis.pipeline(transaction=True) as tx:
            tx.hset(self._session(token), mapping={
                "username": username, "csrf": session.csrf,
                "started": f"{session.started:.0f}", "from": address})
            tx.expire(self._session(token), SESSION_IDLE)
            tx.sadd(f"{self.base}:sessions:{username}", self._session(token))
            tx.expire(f"{self.base}:sessions:{username}", SESSION_LONGEST)
            await tx.execute()
        return session

    async def session(self, token: str) -> Session | None:
        """The live session behind a cookie, kept alive by this request; None when it
        ended, lapsed, or its account is gone or disabled."""
        if not token:
            return None
        key = self._session(token)
        fields = cast(dict[str, str], await self.redis.hgetall(key))
        if not fields or self.clock() - float(fields.get("started", 0)) > SESSION_LONGEST:
            return None
        account = await self.account(fields.get("username", ""))
        if account is None or account.disabled:
            await self.redis.delete(key)
            return None
        await self.redis.expire(key, SESSION_IDLE)
        return Session(token, account, fields.get("csrf", ""), float(fields["started"]))

    async def log_out(self, token: str) -> None:
        await self.redis.delete(self._session(token))

    async def _end_sessions_of(self, username: str) -> None:
        listed = f"{self.base}:sessions:{username}"
        keys = [str(k) for k in await self.redis.smembers(listed)]
        await self.redis.delete(listed, *keys)

    # --- audit ----------------------------------------------------------------------

    async def audit(self, who: str, address: str, what: str, target: str = "",
                    detail: str = "") -> None:
        """Who did what, when, from where: every write of the web side, and every
        failed login."""
        await self._audit(keys=[self.audit_key], args=[
            AUDIT_KEPT_DAYS * 86400 * 1000, "at", f"{self.clock():.3f}", "who", who,
            "from", address, "what", what, "target", target, "detail", detail])

    async def audit_trail(self, count: int = 100) -> list[dict[str, str]]:
        entries = cast(list[tuple[str, dict[str, str]]],
                       await self.redis.xrevrange(self.audit_key, count=count))
        return [dict(fields) for _, fields in entries]


def _account(username: str, fields: dict[str, str]) -> Account | None:
    if not fields.get("hash"):
        return None
    try:
        role = Role(fields.get("role", ""))
    except ValueError:
        return None
    return Account(username, role, fields.get("agent_id", ""), bool(fields.get("disabled")),
                   fields.get("name", ""), fields.get("phone", ""))


def _check_phone(phone: str) -> None:
    try:
        check_phone(phone)
    except PhoneRefused as exc:
        raise AccountError(str(exc)) from None

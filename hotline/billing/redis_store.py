"""The built-in billing store in Redis: accounts, bills, vouchers and a ledger.

Vouchers and PINs are never stored in plain text: a voucher is found by a keyed hash of
its number, and its PIN is compared as a keyed hash too (the key comes from settings).
Redeeming is one Lua script: check the voucher, mark it used, credit the account and
write the ledger, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import cast

from redis.asyncio import Redis

from ivr.billing import Account, Bill, TopUp

_REDEEM = """
local done = redis.call('GET', KEYS[6])
if done then return cjson.decode(done) end
local limit = tonumber(ARGV[4])
local function locked()
  return tonumber(redis.call('GET', KEYS[3]) or '0') >= limit
      or tonumber(redis.call('GET', KEYS[4]) or '0') >= limit
end
local function finish(result)
  redis.call('SET', KEYS[6], cjson.encode(result), 'EX', 86400)
  return result
end
local function failed(outcome)
  for _, key in ipairs({KEYS[3], KEYS[4]}) do
    redis.call('INCR', key)
    redis.call('EXPIRE', key, ARGV[5])
  end
  if locked() then outcome = 'locked' end
  return finish({outcome})
end
if locked() then return finish({'locked'}) end
if redis.call('EXISTS', KEYS[1]) == 0 then return finish({'no_account'}) end
if redis.call('EXISTS', KEYS[2]) == 0 then return failed('unknown_voucher') end
if redis.call('HGET', KEYS[2], 'state') == 'used' then return finish({'used'}) end
if redis.call('HGET', KEYS[2], 'pin') ~= ARGV[1] then return failed('wrong_pin') end
local value = tonumber(redis.call('HGET', KEYS[2], 'value_fen'))
redis.call('HSET', KEYS[2], 'state', 'used', 'used_by', ARGV[6], 'used_at', ARGV[3])
local balance = redis.call('HINCRBY', KEYS[1], 'balance_fen', value)
redis.call('DEL', KEYS[4])
redis.call('RPUSH', KEYS[5], cjson.encode({request = ARGV[2], account = ARGV[6],
  voucher = ARGV[7], credited_fen = value, balance_fen = balance, at = ARGV[3]}))
return finish({'credited', balance, value})
"""


_OUTCOMES = {"wrong_pin", "locked", "used", "unknown_voucher", "no_account"}


class RedisBilling:
    def __init__(self, redis: Redis, prefix: str, secret: bytes, *, pin_attempts: int = 3,
                 lock_seconds: int = 1800, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock  # the ledger's time of each top-up
        self.redis = redis
        self.base = f"{prefix}{{billing}}"
        self.secret = secret
        self.pin_attempts = pin_attempts
        self.lock_seconds = lock_seconds
        self._redeem = redis.register_script(_REDEEM)
        self.ledger_key = f"{self.base}:ledger"

    def keyed(self, *parts: str) -> str:
        return hmac.new(self.secret, "\0".join(parts).encode(), hashlib.sha256).hexdigest()

    def account_key(self, number: str) -> str:
        return f"{self.base}:account:{number}"

    def voucher_key(self, voucher: str) -> str:
        return f"{self.base}:voucher:{self.keyed('voucher', voucher)}"

    async def account(self, number: str) -> Account | None:
        fields = cast(dict[str, str], await self.redis.hgetall(self.account_key(number)))
        if not fields:
            return None
        data = dict(fields)
        return Account(number, int(data.get("balance_fen", 0)), data.get("tier", "normal"))

    async def last_bill(self, number: str) -> Bill | None:
        fields = await self.redis.hmget(self.account_key(number), ["bill_fen", "bill_due"])
        if fields[0] is None or fields[1] is None:
            return None
        return Bill(int(fields[0]), dt.date.fromisoformat(str(fields[1])))

    async def redeem(self, number: str, voucher: str, pin: str, request_id: str) -> TopUp:
        vh = self.keyed("voucher", voucher)
        result = await self._redeem(
            keys=[self.account_key(number), self.voucher_key(voucher),
                  f"{self.base}:pinfail:voucher:{vh}", f"{self.base}:pinfail:account:{number}",
                  self.ledger_key, f"{self.base}:request:{request_id}"],
            args=[self.keyed("pin", voucher, pin), request_id,
                  dt.datetime.fromtimestamp(self.clock(), dt.UTC).isoformat(),
                  self.pin_attempts, self.lock_seconds, number, vh])
        outcome = result[0]
        if outcome == "credited":
            return TopUp("credited", int(result[1]), int(result[2]))
        if outcome not in _OUTCOMES:
            raise ValueError(f"unexpected redeem outcome {outcome!r}")
        return TopUp(outcome)

    # --- seeding (the demo, tests, an operator loading its own data) -----------------

    async def open_account(self, number: str, balance_fen: int, *, tier: str = "normal",
                           bill_fen: int | None = None, bill_due: dt.date | None = None) -> None:
        key = self.account_key(number)
        await self.redis.hset(key, mapping={"balance_fen": balance_fen, "tier": tier})
        if bill_fen is not None and bill_due is not None:
            await self.redis.hset(key, mapping={"bill_fen": bill_fen,
                                                "bill_due": bill_due.isoformat()})

    async def issue_voucher(self, voucher: str, pin: str, value_fen: int) -> None:
        await self.redis.hset(self.voucher_key(voucher), mapping={
            "pin": self.keyed("pin", voucher, pin), "value_fen": value_fen, "state": "new"})

    async def ledger(self) -> list[dict[str, object]]:
        return [json.loads(e) for e in await self.redis.lrange(self.ledger_key, 0, -1)]

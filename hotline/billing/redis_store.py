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
from collections.abc import Callable, Mapping
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import WatchError

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

    # --- importing (`hotline billing import`): all checked first, then one MULTI -------

    @staticmethod
    def account_fields(balance_fen: int, tier: str, bill_fen: int | None = None,
                       bill_due: dt.date | None = None) -> dict[str, str | int]:
        """An account's hash, as `open_account` writes it."""
        fields: dict[str, str | int] = {"balance_fen": balance_fen, "tier": tier}
        if bill_fen is not None and bill_due is not None:
            fields |= {"bill_fen": bill_fen, "bill_due": bill_due.isoformat()}
        return fields

    def voucher_fields(self, voucher: str, pin: str, value_fen: int) -> dict[str, str | int]:
        """A voucher's hash, as `issue_voucher` writes it: the PIN only as a keyed hash."""
        return {"pin": self.keyed("pin", voucher, pin), "value_fen": value_fen, "state": "new"}

    async def load(self, accounts: Mapping[str, Mapping[str, str | int]],
                   vouchers: Mapping[str, Mapping[str, str | int]], *,
                   replace_accounts: bool = False) -> list[str]:
        """Write prepared hashes (key -> fields) all at once, in one MULTI: all of them
        or none. A voucher already issued is never issued again (that would make a used
        one new), and an account already open is only replaced with `replace_accounts`:
        the keys found are returned, and then nothing is written."""
        guarded = [*vouchers, *([] if replace_accounts else accounts)]
        async with self.redis.pipeline(transaction=True) as tx:
            for _attempt in range(3):
                try:
                    if guarded:
                        # Watched, then checked: a key written between the check and
                        # the EXEC makes the EXEC fail, and the check runs again.
                        await tx.watch(*guarded)
                    taken = await self._existing(guarded)
                    if taken:
                        return taken  # leaving the block un-WATCHes
                    tx.multi()  # type: ignore[no-untyped-call]  # redis-py: untyped
                    for key, fields in accounts.items():
                        tx.delete(key)  # a replaced account is the file's row, whole
                        tx.hset(key, mapping=cast(Any, fields))
                    for key, fields in vouchers.items():
                        tx.hset(key, mapping=cast(Any, fields))
                    await tx.execute()
                    return []
                except WatchError:
                    continue
        raise WatchError("the billing records kept changing while they were imported")

    async def _existing(self, keys: list[str]) -> list[str]:
        if not keys:
            return []
        async with self.redis.pipeline(transaction=False) as reads:
            for key in keys:
                reads.exists(key)
            found = await reads.execute()
        return [key for key, there in zip(keys, found, strict=True) if there]

    async def ledger(self) -> list[dict[str, object]]:
        return [json.loads(e) for e in await self.redis.lrange(self.ledger_key, 0, -1)]

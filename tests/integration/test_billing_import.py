"""`hotline billing import` and `billing show` against a real redis-server: good files
land as the self-service menu reads them, and a file with any bad row imports nothing."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
from pathlib import Path

import pytest
from redis.asyncio import Redis

from hotline.billing.redis_store import RedisBilling
from hotline.cli.billing import billing_command
from hotline.dev.local_redis import LocalRedis
from hotline.settings import Settings

pytestmark = pytest.mark.redis

_prefixes = itertools.count(1)
VOUCHER_A, PIN_A = "4539578763621486", "123456"
VOUCHER_B, PIN_B = "4485275742308327", "99990000"


@pytest.fixture
def settings(redis_server: LocalRedis) -> Settings:
    return Settings(redis_url=redis_server.url, key_prefix=f"billing-import-{next(_prefixes)}:",
                    secret_key=b"test-secret-key")


def csv_file(tmp_path: Path, name: str, text: str, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return path


async def run(settings: Settings, *words: str, replace: bool = False,
              dry_run: bool = False) -> int:
    if words[0] == "show":
        args = argparse.Namespace(billing_command="show", number=words[1])
    else:
        args = argparse.Namespace(billing_command="import", kind=words[0],
                                  file=Path(words[1]), replace=replace, dry_run=dry_run)
    return await billing_command(args, settings)


async def everything_stored(redis: Redis, prefix: str) -> dict[str, object]:
    """Every key under the prefix with its value, whatever its type."""
    stored: dict[str, object] = {}
    async for key in redis.scan_iter(f"{prefix}*"):
        kind = await redis.type(key)
        stored[key] = (await redis.hgetall(key) if kind == "hash" else
                       await redis.lrange(key, 0, -1) if kind == "list" else
                       await redis.get(key))
    return stored


async def test_good_files_land_where_the_menu_reads_them(
        settings: Settings, redis: Redis, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    accounts = csv_file(tmp_path, "accounts.csv", (
        "number,balance_fen,tier,bill_fen,bill_due\n"
        "13900000002,8850,diamond,5600,2025-07-15\n"
        "13900000003,-1250,normal,,\n"), bom=True)  # saved by a spreadsheet: a BOM
    vouchers = csv_file(tmp_path, "vouchers.csv", (
        f"voucher,pin,value_fen\n{VOUCHER_A},{PIN_A},5000\n\n{VOUCHER_B},{PIN_B},1500\n"))

    assert await run(settings, "accounts", str(accounts), dry_run=True) == 0
    assert "nothing written (--dry-run)" in capsys.readouterr().out
    assert await everything_stored(redis, settings.key_prefix) == {}

    assert await run(settings, "accounts", str(accounts)) == 0
    assert await run(settings, "vouchers", str(vouchers)) == 0
    out = capsys.readouterr().out
    assert "imported 2 account(s), balances totalling ¥76.00, 1 with a last bill" in out
    assert "imported 2 voucher(s), total value ¥65.00" in out

    store = RedisBilling(redis, settings.key_prefix, settings.secret_for("billing"))
    diamond = await store.account("13900000002")
    assert diamond is not None and (diamond.balance_fen, diamond.tier) == (8850, "diamond")
    assert await store.last_bill("13900000002") is not None
    assert (await store.last_bill("13900000002")).due == dt.date(2025, 7, 15)  # type: ignore[union-attr]
    arrears = await store.account("13900000003")
    assert arrears is not None and arrears.balance_fen == -1250
    assert await store.last_bill("13900000003") is None
    # The caller's top-up finds the voucher by its hash and checks the PIN's hash.
    assert (await store.redeem("13900000003", VOUCHER_A, "000000", "r1")).outcome == "wrong_pin"
    top_up = await store.redeem("13900000003", VOUCHER_A, PIN_A, "r2")
    assert (top_up.outcome, top_up.new_balance_fen) == ("credited", 3750)

    # No voucher number or PIN in plain text anywhere in Redis, keys or values.
    stored = await everything_stored(redis, settings.key_prefix)
    text = repr(stored)  # keys and values, the ledger included
    for secret in (VOUCHER_A, VOUCHER_B, PIN_B):
        assert secret not in text

    # The same vouchers again: a used one must never become new.
    assert await run(settings, "vouchers", str(vouchers)) == 1
    out = capsys.readouterr().out
    assert f"vouchers.csv:2: voucher ••••••••••••{VOUCHER_A[-4:]} was issued already" in out
    assert "nothing imported: 2 row(s)" in out
    assert (await store.redeem("13900000002", VOUCHER_A, PIN_A, "r3")).outcome == "used"

    # Accounts already open are only loaded over with --replace.
    assert await run(settings, "accounts", str(accounts)) == 1
    assert "account •••••••0002 is already open" in capsys.readouterr().out
    assert await run(settings, "accounts", str(accounts), replace=True) == 0
    assert (await store.account("13900000003")).balance_fen == -1250  # type: ignore[union-attr]


async def test_a_bad_file_names_each_line_and_imports_nothing(
        settings: Settings, redis: Redis, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    vouchers = csv_file(tmp_path, "vouchers.csv", (
        "voucher,pin,value_fen\n"
        "4539578763621487,123456,5000\n"     # 2: wrong check digit
        f"{VOUCHER_B},12a456,1500\n"           # 3: a letter in the PIN
        f"{VOUCHER_A},123456,12.50\n"          # 4: yuan, not fen
        f"{VOUCHER_A},123456,0\n"              # 5: nothing to credit
        f"{VOUCHER_B},424242\n"))              # 6: a field missing
    assert await run(settings, "vouchers", str(vouchers)) == 1
    out = capsys.readouterr().out
    assert f"{vouchers}:2: voucher ••••••••••••1487 fails the check digit (Luhn)" in out
    assert f"{vouchers}:3: pin must be digits only" in out
    assert f"{vouchers}:4: value_fen '12.50' must be whole fen" in out
    assert f"{vouchers}:5: value_fen must be more than 0" in out
    assert f"{vouchers}:6: 2 field(s), but the header has 3" in out
    assert "nothing imported: 5 problem(s)" in out
    assert "12a456" not in out and "424242" not in out  # PINs are never shown

    accounts = csv_file(tmp_path, "accounts.csv",
                        "number,balanse_fen,tier\n13900000002,100,gold\n")
    assert await run(settings, "accounts", str(accounts)) == 1
    out = capsys.readouterr().out
    assert "accounts.csv:1: unknown column 'balanse_fen'; did you mean 'balance_fen'?" in out
    assert "missing: balance_fen" in out
    assert await everything_stored(redis, settings.key_prefix) == {}


async def test_a_half_bad_file_imports_nothing(
        settings: Settings, redis: Redis, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    accounts = csv_file(tmp_path, "accounts.csv", (
        "tier,number,balance_fen\n"              # columns in any order
        "gold,13900000010,100\n"
        "silver,13900000011,200\n"
        "platinum,13900000012,300\n"             # 4: no such tier
        "normal,13900000010,400\n"               # 5: the same number again
        "normal,13900000013,500\n"
        "gold,13900000014,100\n"))
    assert await run(settings, "accounts", str(accounts)) == 1
    out = capsys.readouterr().out
    assert f"{accounts}:4: tier 'platinum' must be one of diamond, gold, silver, normal" in out
    assert f"{accounts}:5: number •••••••0010 is also on line 2" in out
    assert "nothing imported: 2 problem(s)" in out
    assert await everything_stored(redis, settings.key_prefix) == {}


async def test_show_masks_the_number_as_journals_do(
        settings: Settings, redis: Redis, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    store = RedisBilling(redis, settings.key_prefix, settings.secret_for("billing"))
    await store.open_account("13900000002", 8850, tier="diamond", bill_fen=5600,
                             bill_due=dt.date(2025, 7, 15))
    assert await run(settings, "show", "13900000002") == 0
    out = capsys.readouterr().out
    assert "account    •••••••0002" in out and "13900000002" not in out
    assert "balance    ¥88.50" in out and "tier       diamond" in out
    assert "last bill  ¥56.00, due 2025-07-15" in out
    assert await run(settings, "show", "13900000099") == 1
    assert "no account •••••••0099" in capsys.readouterr().out

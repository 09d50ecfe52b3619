"""`hotline billing ...`: loading an operator's accounts and vouchers into the built-in
Redis billing store, and looking at one account the way a caller's balance query does.

An import checks every row first and writes only when all of them are good, in one
MULTI: a file with one bad row imports nothing, so a fixed file can simply be imported
again. The file is read once and never kept or copied; voucher numbers and PINs reach
Redis only as keyed hashes (`HOTLINE_SECRET_KEY`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.cli.billing_files import (
    ACCOUNT_COLUMNS,
    ACCOUNT_OPTIONAL,
    VOUCHER_COLUMNS,
    masked,
    read_accounts,
    read_vouchers,
    yuan,
)
from hotline.settings import MissingSecretKey, Settings

if TYPE_CHECKING:
    from hotline.billing.redis_store import RedisBilling

SHOWN_PROBLEMS = 50  # a file wrong in every row must not bury the summary


def add_billing_parser(sub: Any) -> None:
    billing = sub.add_parser("billing", help="the built-in billing store: import accounts "
                             "and vouchers, show an account")
    commands = billing.add_subparsers(dest="billing_command", required=True)
    load = commands.add_parser(
        "import", help="import a CSV file of accounts or vouchers (all rows or none)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="CSV with a header row:\n"
               f"  accounts: {','.join(ACCOUNT_COLUMNS)}[,{','.join(ACCOUNT_OPTIONAL)}]\n"
               f"  vouchers: {','.join(VOUCHER_COLUMNS)}\n"
               "Amounts in whole fen (1250 is 12.50 yuan); tier diamond, gold, silver or "
               "normal;\nbill_fen with bill_due (YYYY-MM-DD) or neither; vouchers with a "
               "valid check digit;\nPINs digits only.")
    load.add_argument("kind", choices=("accounts", "vouchers"))
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true",
                      help="check every row, write nothing")
    load.add_argument("--replace", action="store_true",
                      help="accounts only: load the file's rows over accounts already open "
                           "(their balance and bill become the file's)")
    show = commands.add_parser("show", help="one account: balance, tier, last bill")
    show.add_argument("number")


async def billing_command(args: argparse.Namespace, settings: Settings) -> int:
    from redis.exceptions import RedisError

    from hotline.billing.redis_store import RedisBilling
    from hotline.runtime.redis_client import connect

    if args.billing_command == "import":
        try:
            secret = settings.secret_for("billing")
        except MissingSecretKey as exc:
            print(f"nothing imported: {exc}")
            return 2
        if args.replace and args.kind == "vouchers":
            print("nothing imported: vouchers are never replaced (a used voucher would "
                  "become new again); remove the ones already issued from the file")
            return 2
    else:
        secret = b""  # accounts are found by number; no hash is needed to show one
    redis = connect(settings.redis_url)
    try:
        store = RedisBilling(redis, settings.key_prefix, secret)
        if not getattr(args, "dry_run", False):  # a dry run needs no Redis at all
            await _warn_if_not_embedded(redis, settings)
        if args.billing_command == "show":
            return await _show(store, args.number)
        return await _import(store, args.kind, args.file, dry_run=args.dry_run,
                             replace=args.replace)
    except (RedisError, OSError) as exc:
        # One MULTI: a Redis that went away wrote all of the file or none of it.
        print(f"{'nothing imported: ' if args.billing_command == 'import' else ''}Redis "
              f"does not answer ({exc}): start it, or fix HOTLINE_REDIS_URL "
              "(`hotline doctor` checks it)")
        return 1
    finally:
        await redis.aclose()


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A file's rows as the hashes they become, and the words for each row."""

    what: str  # the summary: how many, what value
    records: dict[str, dict[str, str | int]]  # Redis key -> fields
    taken: dict[str, str]  # Redis key -> what to say if it is already there


def _prepare(store: RedisBilling, kind: str, lines: Iterable[str],
             name: str) -> tuple[_Prepared | None, list[str]]:
    if kind == "accounts":
        accounts, problems = read_accounts(lines, name)
        records = {store.account_key(r.number): store.account_fields(
            r.balance_fen, r.tier, r.bill_fen, r.bill_due) for r in accounts}
        taken = {store.account_key(r.number): f"{name}:{r.line}: account {masked(r.number)} "
                 "is already open (--replace loads this file's balance over it)"
                 for r in accounts}
        billed = sum(r.bill_fen is not None for r in accounts)
        what = (f"{len(accounts)} account(s), balances totalling "
                f"{yuan(sum(r.balance_fen for r in accounts))}, {billed} with a last bill")
    else:
        vouchers, problems = read_vouchers(lines, name)
        records = {store.voucher_key(r.voucher): store.voucher_fields(
            r.voucher, r.pin, r.value_fen) for r in vouchers}
        taken = {store.voucher_key(r.voucher): f"{name}:{r.line}: voucher "
                 f"{masked(r.voucher)} was issued already (used or not): it is never "
                 "issued again" for r in vouchers}
        what = (f"{len(vouchers)} voucher(s), total value "
                f"{yuan(sum(r.value_fen for r in vouchers))}")
    if not problems and not records:
        problems = [f"{name}: no rows under the header"]
    return (None if problems else _Prepared(what, records, taken)), problems


async def _import(store: RedisBilling, kind: str, path: Path, *, dry_run: bool,
                  replace: bool) -> int:
    try:
        with path.open(encoding="utf-8-sig", newline="") as lines:
            prepared, problems = _prepare(store, kind, lines, str(path))
    except OSError as exc:
        print(f"nothing imported: cannot read {path}: {exc.strerror or exc}")
        return 1
    except UnicodeDecodeError:
        print(f"nothing imported: {path} is not UTF-8 text; save it as CSV UTF-8")
        return 1
    if prepared is None:
        for problem in problems[:SHOWN_PROBLEMS]:
            print(problem)
        if len(problems) > SHOWN_PROBLEMS:
            print(f"... and {len(problems) - SHOWN_PROBLEMS} more problem(s)")
        print(f"nothing imported: {len(problems)} problem(s) in {path}. Fix them and import "
              "the file again: it imports all of its rows or none")
        return 1
    if dry_run:
        print(f"{path}: every row is good: {prepared.what}; nothing written (--dry-run)")
        return 0
    accounts = prepared.records if kind == "accounts" else {}
    vouchers = prepared.records if kind == "vouchers" else {}
    taken = await store.load(accounts, vouchers, replace_accounts=replace)
    if taken:
        for key in taken:
            print(prepared.taken[key])
        print(f"nothing imported: {len(taken)} row(s) of {path} already in the billing "
              "store")
        return 1
    print(f"imported {prepared.what} from {path}"
          + ("; numbers and PINs are stored only as keyed hashes" if kind == "vouchers"
             else ""))
    return 0


async def _show(store: RedisBilling, number: str) -> int:
    account = await store.account(number)
    if account is None:
        print(f"no account {masked(number)} in the built-in billing store")
        return 1
    bill = await store.last_bill(number)
    print(f"account    {masked(number)}")
    print(f"balance    {yuan(account.balance_fen)}"
          + ("  (in arrears)" if account.balance_fen < 0 else ""))
    print(f"tier       {account.tier}")
    print("last bill  " + (f"{yuan(bill.amount_fen)}, due {bill.due.isoformat()}"
                           if bill is not None else "none"))
    return 0


async def _warn_if_not_embedded(redis: Any, settings: Settings) -> None:
    """Callers reach the backend the live config names: records in Redis are theirs
    only with the built-in store."""
    from config import model
    from config.loader import ConfigError, load_text
    from config.versions import ConfigVersions

    try:
        active = await ConfigVersions(redis, settings.key_prefix, time.time).active()
        if active is None:
            return
        billing = load_text(active.text, active.source).config.backends.billing
    except ConfigError:
        return
    if isinstance(billing, model.HttpBilling):
        print(f"note: the live config's billing backend is {billing.url}, not this store: "
              "callers will not see these records until the config uses the built-in one")

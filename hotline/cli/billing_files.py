"""The CSV files `hotline billing import` reads, checked row by row with no I/O.

Both files are UTF-8 CSV with a header row naming the columns (in any order):

    accounts: number,balance_fen,tier[,bill_fen,bill_due]
        number       the caller's number as the hotline sees it: digits, maybe a leading +
        balance_fen  whole fen (1 yuan = 100 fen), minus for arrears: -1250 is -12.50 yuan
        tier         diamond, gold, silver or normal
        bill_fen     the last bill in whole fen, and bill_due its due date (YYYY-MM-DD):
                     both or neither
    vouchers: voucher,pin,value_fen
        voucher      the card number: digits, with a valid check digit (Luhn), as the
                     menu checks what a caller types
        pin          digits only
        value_fen    what the voucher credits, whole fen, more than 0

A problem names its line and says what is wrong. Voucher numbers are shown only masked
and PINs never, so a problem report can be pasted into a ticket.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from config.queues import TIERS
from ivr.choices import luhn_ok

ACCOUNT_COLUMNS = ("number", "balance_fen", "tier")
ACCOUNT_OPTIONAL = ("bill_fen", "bill_due")
VOUCHER_COLUMNS = ("voucher", "pin", "value_fen")

_NUMBER = re.compile(r"\+?[0-9]{3,20}")
_WHOLE = re.compile(r"-?[0-9]+")
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True, slots=True)
class AccountRow:
    line: int
    number: str
    balance_fen: int
    tier: str
    bill_fen: int | None = None
    bill_due: dt.date | None = None


@dataclass(frozen=True, slots=True)
class VoucherRow:
    line: int
    voucher: str = field(repr=False)
    pin: str = field(repr=False)
    value_fen: int


def masked(digits: str) -> str:
    """As call journals show typed digits (one dot each), keeping the last four."""
    return "•" * max(len(digits) - 4, 0) + digits[-4:]


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def _records(lines: Iterable[str], name: str, required: tuple[str, ...],
             optional: tuple[str, ...], problems: list[str]
             ) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {column: value}) for each data row; header and shape problems
    go to `problems`."""
    reader = csv.reader(lines)
    shape = ",".join(required) + (f"[,{','.join(optional)}]" if optional else "")
    header = next(reader, None)
    if header is None:
        problems.append(f"{name}: the file is empty; its first line must be the header "
                        f"{shape}")
        return
    columns = [c.strip().lower() for c in header]
    known = required + optional
    bad_header = False
    for column in columns:
        if column not in known:
            close = difflib.get_close_matches(column, known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (the columns: {shape})"
            problems.append(f"{name}:1: unknown column '{column}'{hint}")
            bad_header = True
        elif columns.count(column) > 1:
            problems.append(f"{name}:1: the column '{column}' is named twice")
            bad_header = True
    missing = [c for c in required if c not in columns]
    if missing:
        problems.append(f"{name}:1: the header must name the columns {shape}; missing: "
                        f"{', '.join(missing)}")
        bad_header = True
    if bad_header:
        return
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) != len(columns):
            problems.append(f"{name}:{reader.line_num}: {len(row)} field(s), but the header "
                            f"has {len(columns)}")
            continue
        yield reader.line_num, {c: v.strip() for c, v in zip(columns, row, strict=True)}


def read_accounts(lines: Iterable[str], name: str) -> tuple[list[AccountRow], list[str]]:
    problems: list[str] = []
    rows: list[AccountRow] = []
    seen: dict[str, int] = {}
    for line, r in _records(lines, name, ACCOUNT_COLUMNS, ACCOUNT_OPTIONAL, problems):
        wrong: list[str] = []
        number = r["number"]
        if not (number.isascii() and _NUMBER.fullmatch(number)):
            wrong.append("number must be the caller's number as the hotline sees it: "
                         "3 to 20 digits, maybe a leading +")
        elif number in seen:
            wrong.append(f"number {masked(number)} is also on line {seen[number]}")
        balance = _whole(r["balance_fen"], "balance_fen", wrong, negative=True)
        tier = r["tier"].lower()
        if tier not in TIERS:
            wrong.append(f"tier '{r['tier']}' must be one of {', '.join(TIERS)}")
        bill_fen = bill_due = None
        bill_text, due_text = r.get("bill_fen", ""), r.get("bill_due", "")
        if bool(bill_text) != bool(due_text):
            wrong.append("bill_fen and bill_due go together: give both or neither")
        elif bill_text:
            bill_fen = _whole(bill_text, "bill_fen", wrong, negative=False)
            try:
                bill_due = dt.date.fromisoformat(due_text)
            except ValueError:
                wrong.append(f"bill_due '{due_text}' must be a date as YYYY-MM-DD")
        if wrong:
            problems.extend(f"{name}:{line}: {w}" for w in wrong)
            continue
        seen[number] = line
        assert balance is not None
        rows.append(AccountRow(line, number, balance, tier, bill_fen, bill_due))
    return rows, problems


def read_vouchers(lines: Iterable[str], name: str) -> tuple[list[VoucherRow], list[str]]:
    problems: list[str] = []
    rows: list[VoucherRow] = []
    seen: dict[str, int] = {}
    for line, r in _records(lines, name, VOUCHER_COLUMNS, (), problems):
        wrong: list[str] = []
        voucher, pin = r["voucher"], r["pin"]
        if not (voucher.isascii() and _DIGITS.fullmatch(voucher)):
            wrong.append("voucher must be digits only")
        elif not luhn_ok(voucher):
            wrong.append(f"voucher {masked(voucher)} fails the check digit (Luhn): a "
                         "caller could never type it in; check the number")
        elif voucher in seen:
            wrong.append(f"voucher {masked(voucher)} is also on line {seen[voucher]}")
        if not (pin.isascii() and _DIGITS.fullmatch(pin)):
            wrong.append("pin must be digits only (a phone's keypad types nothing else)")
        value = _whole(r["value_fen"], "value_fen", wrong, negative=False)
        if value == 0:
            wrong.append("value_fen must be more than 0")
        if wrong:
            problems.extend(f"{name}:{line}: {w}" for w in wrong)
            continue
        seen[voucher] = line
        assert value is not None
        rows.append(VoucherRow(line, voucher, pin, value))
    return rows, problems


def _whole(text: str, column: str, wrong: list[str], *, negative: bool) -> int | None:
    if text.isascii() and _WHOLE.fullmatch(text) and (negative or not text.startswith("-")):
        return int(text)
    sign = ", with a minus for arrears" if negative else ", 0 or more"
    wrong.append(f"{column} '{text}' must be whole fen (1 yuan = 100 fen: 12.50 yuan "
                 f"is 1250){sign}")
    return None

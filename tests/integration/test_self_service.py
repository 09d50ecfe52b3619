"""Self-service on the real sandbox: balance, voucher top-up, lock-out, races, bad keys,
and a billing backend that does not answer."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from hotline.billing.redis_store import RedisBilling
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.engine import Engine
from hotline.settings import Settings
from tests.conftest import EventTap
from tests.integration.helpers import Phone, top_up_by_phone, until, wait_ended

pytestmark = [pytest.mark.asterisk, pytest.mark.redis]

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "hotline.yaml"
VOUCHER, PIN = "4539578763621486", "246810"  # a Luhn-valid card number


@pytest.fixture
async def hotline_tap(hotline: Engine) -> AsyncIterator[tuple[Engine, EventTap]]:
    tap = EventTap()
    hotline.ami.add_raw_listener(tap)
    yield hotline, tap
    hotline.ami.remove_raw_listener(tap)


def billing(engine: Engine) -> RedisBilling:
    backend = engine.billing.backend(engine.live.config)
    assert isinstance(backend, RedisBilling)
    return backend


def zh_amount(words: list[str]) -> int:
    """Fen from the Mandarin words the caller heard, read the way a listener does."""
    digits = {w: i for i, w in enumerate(
        ["ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu"])}
    units = {"shi": 10, "bai": 100, "qian": 1000}
    total = section = pending = 0
    sign = -1 if words and words[0] == "qianfei" else 1
    fen = 0
    for i, word in enumerate(words):
        if word in digits:
            pending = digits[word]
        elif word in units:
            section += (pending or 1) * units[word]
            pending = 0
        elif word == "wan":
            total += (section + pending) * 10_000
            section = pending = 0
        elif word == "yuan":
            total += section + pending
            section = pending = 0
        elif word == "jiao":
            fen += pending * 10
            pending = 0
        elif word == "fen":
            fen += pending
            pending = 0
        assert word in (*digits, *units, "wan", "yuan", "jiao", "fen", "qianfei"), (i, word)
    return sign * (total * 100 + fen)


def heard_after(steps: list[dict[str, Any]], prompt: str) -> list[str]:
    """The say-words played right after `prompt`."""
    commands = [s["command"] for s in steps]
    start = next(i for i, c in enumerate(commands) if c.startswith("STREAM FILE")
                 and c.split()[2].endswith(f"/{prompt}"))
    words = []
    for command in commands[start + 1:]:
        path = command.split()[2] if command.startswith("STREAM FILE") else ""
        if "/say/" not in path:
            break
        words.append(path.rsplit("/", 1)[1])
    return words


async def test_balance_said_is_the_accounts_balance(hotline: Engine) -> None:
    caller = SimulatedCaller(caller_number="13811110001", stay=60)
    await billing(hotline).open_account(caller.caller_number, 123456)  # 1,234.56 yuan
    call_id = await place_call(hotline.originator, caller)
    phone = Phone(hotline, call_id)
    await phone.answer("zh/main_menu", "1")
    await phone.answer("zh/self_service_menu", "1")
    await phone.listening("zh/self_service_menu")  # the balance was said; the menu is back
    await phone.hang_up()
    await wait_ended(hotline, call_id)

    steps = await hotline.call_log.steps(call_id)
    words = heard_after(steps, "zh/your_balance")
    assert words == ["yi", "qian", "er", "bai", "san", "shi", "si", "yuan", "wu", "jiao",
                     "liu", "fen"]
    assert zh_amount(words) == 123456


def sox_rms(path: Path, start: float, length: float) -> float:
    out = subprocess.run(["sox", str(path), "-n", "trim", f"{start:.2f}", f"{length:.2f}",
                          "stat"], capture_output=True, text=True).stderr
    line = next(li for li in out.splitlines() if li.startswith("RMS     amplitude"))
    return float(line.split(":")[1])


async def test_top_up_credits_once_and_the_pin_is_silent_in_the_recording(
        hotline: Engine, redis: Redis, settings: Settings) -> None:
    caller = SimulatedCaller(caller_number="13811110002", stay=90)
    store = billing(hotline)
    await store.open_account(caller.caller_number, 1000)
    await store.issue_voucher(VOUCHER, PIN, 5000)
    call_id = await top_up_by_phone(hotline, caller, VOUCHER, PIN)

    account = await store.account(caller.caller_number)
    assert account is not None and account.balance_fen == 6000
    ledger = await store.ledger()
    assert [(e["account"], e["credited_fen"]) for e in ledger] == [(caller.caller_number, 5000)]
    steps = await hotline.call_log.steps(call_id)
    assert zh_amount(heard_after(steps, "zh/top_up_done")) == 6000

    # The PIN is nowhere: not in the journal, not in any Redis key or value.
    commands = [s["command"] for s in steps]
    pin_step = next(s for s in steps if "/zh/enter_pin " in s["command"])
    assert pin_step["result"] == "•" * len(PIN)
    readers = {"hash": redis.hgetall, "list": lambda k: redis.lrange(k, 0, -1),
               "string": redis.get, "set": redis.smembers,
               "zset": lambda k: redis.zrange(k, 0, -1, withscores=True),
               "stream": lambda k: redis.xrange(k)}
    # As a number of its own (or the two typed as one): the digits of a timestamp may
    # hold the PIN's by chance.
    secret = re.compile(rf"(?<!\d)({PIN}|{VOUCHER}|{VOUCHER}{PIN})(?!\d)")
    for key in await redis.keys("*"):
        assert not secret.search(key), key
        kind = await redis.type(key)
        assert kind in readers, f"{key} is a {kind}: read it too"
        dump = str(await readers[kind](key))
        assert not secret.search(dump), key

    # The recording is muted exactly while the PIN is typed.
    at = {c.split()[0] + " " + c.split()[1]: s["at"] for c, s in zip(commands, steps,
                                                                      strict=True)}
    started, muted, resumed = (at["RECORDING STARTED"], at["RECORDING MUTED"],
                               at["RECORDING RESUMED"])
    assert commands.index("RECORDING MUTED") < commands.index(pin_step["command"]) \
        < commands.index("RECORDING RESUMED")
    # Filed and indexed once MixMonitor closed it.
    entry = await until(lambda: hotline.recordings.entry(call_id), 15,
                        "the recording is indexed", holds=lambda entry: "sha256" in entry)
    path = Path(entry["path"])
    assert path.parent.name == "self-service" and entry["problems"] == "[]"
    mutes = json.loads(entry["mutes"])
    assert len(mutes) == 1 and abs(mutes[0][0] - (muted - started) / 1000) < 0.01
    mute_from, mute_to = (muted - started) / 1000, (resumed - started) / 1000
    assert mute_to - mute_from > 1.2  # into the PIN prompt, and the typing
    assert sox_rms(path, mute_from + 0.3, mute_to - mute_from - 0.6) == 0.0
    # Right after, "your top-up succeeded..." plays in full: the recording has it.
    assert sox_rms(path, mute_to + 0.5, 1.5) > 0.01


async def test_three_wrong_pins_lock_the_voucher(hotline: Engine) -> None:
    caller = SimulatedCaller(caller_number="13811110003", stay=120)
    store = billing(hotline)
    await store.open_account(caller.caller_number, 1000)
    await store.issue_voucher("4485275742308327", "135790", 3000)
    call_id = await place_call(hotline.originator, caller)
    phone = Phone(hotline, call_id)
    await phone.answer("zh/main_menu", "1")
    await phone.answer("zh/self_service_menu", "3")
    await phone.answer("zh/enter_voucher", "4485275742308327#")
    for wrong in ("111111", "222222", "333333"):
        await phone.answer("zh/enter_pin", wrong + "#")
    await phone.listening("zh/self_service_menu")
    await phone.hang_up()
    await wait_ended(hotline, call_id)

    played = [s["command"].split()[2].rsplit("/", 2)[-1] for s in
              await hotline.call_log.steps(call_id) if s["command"].startswith("STREAM")]
    assert played.count("wrong_pin") == 2 and played.count("voucher_refused") == 1
    later = await store.redeem(caller.caller_number, "4485275742308327", "135790", "later-1")
    assert later.outcome == "locked"
    account = await store.account(caller.caller_number)
    assert account is not None and account.balance_fen == 1000


async def test_two_callers_racing_for_one_voucher(hotline: Engine) -> None:
    store = billing(hotline)
    voucher, pin = "4716461583322103", "864200"
    await store.issue_voucher(voucher, pin, 2000)
    callers = [SimulatedCaller(caller_number=n, stay=90) for n in ("13811110004",
                                                                   "13811110005")]
    phones = []
    for caller in callers:
        await store.open_account(caller.caller_number, 0)
        phones.append(Phone(hotline, await place_call(hotline.originator, caller)))
    for phone in phones:
        await phone.answer("zh/main_menu", "1")
        await phone.answer("zh/self_service_menu", "3")
        await phone.answer("zh/enter_voucher", voucher + "#")
    await asyncio.gather(*(phone.listening("zh/enter_pin") for phone in phones))
    await asyncio.gather(*(phone.press(pin + "#") for phone in phones))
    await asyncio.gather(*(phone.listening("zh/self_service_menu") for phone in phones))
    for phone in phones:
        await phone.hang_up()

    balances = [(await store.account(c.caller_number)).balance_fen  # type: ignore[union-attr]
                for c in callers]
    assert sorted(balances) == [0, 2000]
    assert len(await store.ledger()) == 1


@pytest.mark.parametrize(("keys", "where"), [
    (["7", "", "#"], "main menu: a wrong key, silence, a wrong key"),
    (["1", "8", "", ""], "self-service menu: a wrong key, then silence"),
    (["1", "3", "12#", "1234567890123456#", ""], "voucher: too short, not Luhn, silence"),
    (["1", "3", VOUCHER + "#", "12#", "", "#"], "PIN: too short, silence, nothing typed"),
])
async def test_garbage_and_silence_end_at_a_person(
        hotline_tap: tuple[Engine, EventTap], keys: list[str], where: str) -> None:
    engine, tap = hotline_tap
    caller = SimulatedCaller(caller_number="13811110006", stay=120)
    call_id = await place_call(engine.originator, caller)
    phone = Phone(engine, call_id)
    prompts = ["zh/main_menu", "zh/self_service_menu", "zh/enter_voucher", "zh/enter_pin"]
    level = 0
    for key in keys:
        if key:
            await phone.answer(prompts[level], key)
        else:  # silence: the engine's timeout for this prompt runs out
            asking = await phone.listening(prompts[level])
            pending = [c for c in engine.agi.commands.values()
                       if c.call.call.call_id == call_id]
            assert len(pending) == 1
            await phone.taken(asking)
        if key in ("1", "3", VOUCHER + "#") and level < 3:
            level += 1
    await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineFallback"
                       and m.get("CallId") == call_id, timeout=60)
    await tap.wait_for(lambda m: m.get("UserEvent") == "HotlinePersonAnswered"
                       and m.get("Caller") == caller.caller_number, timeout=15)
    record = await wait_ended(engine, call_id, timeout=30)
    assert record["outcome"].startswith("to a person"), (where, record["outcome"])


@pytest.fixture
def silent_billing() -> Iterator[int]:
    """A billing service that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


async def test_a_billing_backend_that_times_out_sends_the_caller_to_a_person(
        settings: Settings, redis: Redis, silent_billing: int, tmp_path: Path) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(EXAMPLE.read_text().replace(
        "  billing: {kind: redis}",
        f"  billing: {{kind: http, url: 'http://127.0.0.1:{silent_billing}', timeout: 1s}}"))
    engine = Engine(replace(settings, config_path=config), redis, watch_config=False)
    tap = EventTap()
    engine.ami.add_raw_listener(tap)
    await engine.start()
    try:
        caller = SimulatedCaller(caller_number="13811110007", stay=60)
        call_id = await place_call(engine.originator, caller)
        phone = Phone(engine, call_id)
        await phone.answer("zh/main_menu", "1")
        await phone.answer("zh/self_service_menu", "1")
        asked = asyncio.get_running_loop().time()
        await tap.wait_for(lambda m: m.get("UserEvent") == "HotlineFallback"
                           and m.get("CallId") == call_id, timeout=15)
        waited = asyncio.get_running_loop().time() - asked
        # The tier lookup at arrival and the balance each wait at most the 1 s timeout.
        assert waited < 3.0
        await tap.wait_for(lambda m: m.get("UserEvent") == "HotlinePersonAnswered"
                           and m.get("Caller") == caller.caller_number, timeout=15)
        record = await wait_ended(engine, call_id)
        assert record["outcome"].startswith("to a person: balance unavailable")
    finally:
        await engine.stop()

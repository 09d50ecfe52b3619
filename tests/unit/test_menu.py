"""The menu interpreter over the example's tree, with a scripted caller."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from config.loader import load
from config.model import HotlineConfig
from ivr.choices import luhn_ok
from ivr.hours import is_open
from ivr.menu import Caller, MenuExit, MenuServices, Prompts, run_menu
from ivr.numbers import start_node
from pbx.ports import Call, Digits

CONFIG = load(Path(__file__).resolve().parents[1] / "data" / "config" / "example.yaml")
# A Monday, 10:00 in Shanghai: open.
MONDAY_10 = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


class Source:
    def __init__(self, config: HotlineConfig) -> None:
        self.config = config


class ScriptedCaller:
    """Presses the next scripted key at each prompt that reads keys; "" is silence."""

    def __init__(self, keys: list[str]) -> None:
        self.call = Call("c1", "ch", "13800000001", "", "10000")
        self.keys = keys
        self.heard: list[str] = []
        self.marks: list[str] = []

    async def read_digits(self, prompt: str, *, timeout: float, max_digits: int,
                          secret: bool = False) -> Digits:
        self.heard.append(prompt.removeprefix("/p/"))
        key = self.keys.pop(0) if self.keys else ""
        return Digits(key, timed_out=not key)

    async def play(self, prompt: str, interrupt_keys: str = "") -> str:
        self.heard.append(prompt.removeprefix("/p/"))
        return ""

    async def hang_up(self) -> None:
        self.heard.append("hangup")

    async def mark(self, note: str) -> None:
        self.marks.append(note)


async def walk(keys: list[str], tier: str = "normal") -> tuple[MenuExit, ScriptedCaller, Caller]:
    line, caller = ScriptedCaller(keys), Caller(language="zh", tier=tier)
    services = MenuServices(Prompts("/p"), lambda: MONDAY_10)
    exit = await run_menu(line, Source(CONFIG), "main", caller, services)  # type: ignore[arg-type]
    return exit, line, caller


async def test_zero_reaches_the_general_queue_and_vips_their_desk() -> None:
    exit, line, caller = await walk(["0"])
    assert exit == MenuExit("queue", queue="general")
    assert line.heard == ["zh/main_menu"]
    assert caller.path == ["main", "to_agent", "general_queue"]
    exit, _, _ = await walk(["0"], tier="diamond")
    assert exit.queue == "vip"


async def test_english_on_nine() -> None:
    exit, line, _ = await walk(["9", "2"])
    assert line.heard == ["zh/main_menu", "en/main_menu"]
    assert exit == MenuExit("queue", queue="fault_report")  # open on Monday 10:00


async def test_garbage_then_silence_ends_at_a_person() -> None:
    exit, line, _ = await walk(["7", "", "#"])
    assert line.heard == ["zh/main_menu", "zh/invalid_choice", "zh/main_menu", "zh/no_input",
                          "zh/main_menu"]
    assert exit.kind == "person"


def test_numbers_calendar_and_luhn() -> None:
    assert start_node(CONFIG, "10000", "13800000001") == "main"
    assert start_node(CONFIG, "112", "13800000001") == "fault_report"
    assert start_node(CONFIG, "10000", "19900001234") == "main_en"
    assert start_node(CONFIG, "12345", "13800000001") is None
    assert is_open(CONFIG.calendar, MONDAY_10)
    assert not is_open(CONFIG.calendar, MONDAY_10.replace(hour=13))  # 21:00 Shanghai
    assert luhn_ok("4539578763621486") and not luhn_ok("4539578763621487")

"""What a caller of a recorded hotline can count on: the whole call is recorded, from
before the first prompt, and the PIN they type never is.

The call flow and the menus run against a scripted caller's line, the queues and the
recording index as stand-ins: no Redis, no Asterisk.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

import pytest

from config.model import HotlineConfig, Recording
from hotline.calls.flow import CallFlow
from hotline.queues.waiting import WaitEnd, WaitOutcome
from ivr.billing import Account
from ivr.menu import Caller, MenuServices, Prompts, run_menu
from pbx.ports import CallControl
from tests.doubles import (
    PROMPTS,
    RECORDINGS,
    VOUCHER,
    VOUCHER_FEN,
    VOUCHER_PIN,
    Event,
    FixedConfig,
    MemoryBilling,
    ScriptedLine,
    a_call,
    hotline_config,
)

# A Monday, 10:00 in Shanghai.
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
NUMBER = "13800000001"


class WaitingLines:
    """The queues as the call flow sees them: a caller handed over is connected."""

    def __init__(self) -> None:
        self.handed_over: list[tuple[str, str]] = []
        self.waiting = self  # where callers wait
        self.outcomes = self  # what became of earlier offers

    async def returned(self, call_id: str, *ring: str) -> None:
        return None  # no caller is back from an unanswered ring

    async def wait(self, line: CallControl, queue: str, **_: Any) -> WaitOutcome:
        self.handed_over.append((line.call.call_id, queue))
        return WaitOutcome(WaitEnd.CONNECTING)


class RecordingIndex:
    def __init__(self) -> None:
        self.expected: list[str] = []  # calls whose recording is now looked for at hangup

    async def started(self, call_id: str, at_ms: int) -> None:
        self.expected.append(call_id)


class Hotline:
    """One call flow over a config, with everything it reaches written down."""

    def __init__(self, config: HotlineConfig) -> None:
        self.queues = WaitingLines()
        self.index = RecordingIndex()
        self.billing = MemoryBilling()
        self.billing.accounts[NUMBER] = Account(NUMBER, 1000)
        self.billing.vouchers[VOUCHER] = (VOUCHER_PIN, VOUCHER_FEN)
        self.to_person: list[str] = []
        self.flow = CallFlow(
            live=cast(Any, FixedConfig(config)), queues=cast(Any, self.queues),
            prompts=Prompts(PROMPTS), billing=lambda: self.billing,
            clock=lambda: NOW.timestamp(), to_person=self._person,
            recordings_dir=RECORDINGS, surveys=cast(Any, None),
            recordings=cast(Any, self.index), recordings_local=Path("recordings"),
            desk=cast(Any, None), call_log=cast(Any, None))

    async def _person(self, line: CallControl, why: str) -> None:
        self.to_person.append(why)

    async def call(self, *keys: str) -> ScriptedLine:
        line = ScriptedLine(a_call(number=NUMBER), keys)
        await self.flow(line)
        return line


def recording(fmt: Literal["mixed", "stereo"] = "mixed", enabled: bool = True
              ) -> HotlineConfig:
    config = hotline_config()
    return config.model_copy(update={"recording": Recording(enabled=enabled, format=fmt)})


# --- d. whole-call recording --------------------------------------------------------


@pytest.mark.parametrize(("fmt", "extension", "options"),
                         [("mixed", ".wav", ""),
                          ("stereo", ".wav", "r(BASE-said.wav)t(BASE-heard.wav)")])
async def test_the_recording_starts_before_the_caller_hears_the_first_prompt(
        fmt: Literal["mixed", "stereo"], extension: str, options: str) -> None:
    hotline = Hotline(recording(fmt))
    line = await hotline.call("0")
    call_id = line.call.call_id
    assert line.recording is not None, "the call was never recorded"
    assert line.events[0].what == "recording", f"heard before recording: {line.events[0]}"
    path = PurePosixPath(line.recording[0])
    assert str(path).startswith(f"{RECORDINGS}/"), f"recorded outside the recordings: {path}"
    assert path.name == f"{call_id}{extension}", f"not named by the call id: {path}"
    # Stereo: each side to a file of its own beside the mixed one.
    assert line.recording[1] == options.replace("BASE", str(path.with_suffix("")))
    assert line.heard == ["en/welcome", "en/menu"]
    assert [e for e in line.events if not e.recorded] == []
    assert hotline.index.expected == [call_id]  # looked for at hangup, even if never written
    assert hotline.queues.handed_over == [(call_id, "billing")]


async def test_a_caller_who_serves_themselves_is_recorded_to_the_goodbye() -> None:
    hotline = Hotline(recording())
    line = await hotline.call("1", VOUCHER, VOUCHER_PIN)
    assert line.events[0].what == "recording"
    assert line.heard[:2] == ["en/welcome", "en/menu"]
    assert line.heard[-1] == "en/bye"
    assert line.events[-1] == Event("hangup", "", recorded=True)


async def test_no_recording_when_the_routing_file_turns_it_off() -> None:
    hotline = Hotline(recording(enabled=False))
    line = await hotline.call("0")
    assert line.recording is None
    assert line.heard == ["en/welcome", "en/menu"]
    assert hotline.index.expected == []


# --- a. the PIN kept out of the recording -------------------------------------------


async def test_the_pin_is_kept_out_of_the_recording_and_the_rest_of_the_call_is_in() -> None:
    hotline = Hotline(recording())
    line = await hotline.call("1", VOUCHER, VOUCHER_PIN)
    assert line.typed(recorded=False) == [VOUCHER_PIN], "the PIN is in the recording"
    assert VOUCHER_PIN not in line.typed(recorded=True)
    # Everything the caller hears after the PIN is on the recording again.
    pin_at = next(n for n, e in enumerate(line.events) if e.detail == VOUCHER_PIN)
    after = [e for e in line.events[pin_at + 1:] if e.what == "prompt"]
    assert after[0].detail == f"{PROMPTS}/en/top_up_done"
    assert [e for e in after if not e.recorded] == [], "the recording stayed muted"
    assert not line.muted
    account = await hotline.billing.account(NUMBER)
    assert account is not None and account.balance_fen == 1000 + VOUCHER_FEN


async def test_every_attempt_at_the_pin_is_kept_out_of_the_recording() -> None:
    config = recording()
    line = ScriptedLine(a_call(), ["12", "654321"])  # too short, then a PIN
    await line.start_recording(f"{RECORDINGS}/c.wav")
    caller = Caller(language="en", recording=True)
    services = MenuServices(Prompts(PROMPTS), lambda: NOW)
    await run_menu(line, FixedConfig(config), "enter_pin", caller, services)
    assert line.typed(recorded=False) == ["12", "654321"]
    assert line.typed(recorded=True) == []
    said = [(e.detail.removeprefix(f"{PROMPTS}/"), e.recorded) for e in line.events
            if e.what == "prompt"]
    # Said between the attempts and after them: recorded.
    assert ("en/invalid_pin", True) in said
    assert said[-2:] == [("en/top_up_failed", True), ("en/bye", True)]

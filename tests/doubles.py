"""Stand-ins for the outside world, for tests of what callers and agents notice:
a scripted caller's line (`ScriptedLine`), the AMI wire (`WireAmi`, read the way the
`hotline-connect` dialplan reads it by `rung_agent` and `screen_pop`), and a billing
backend in memory (`MemoryBilling`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass

from config.loader import load_text
from config.model import HotlineConfig
from ivr.billing import Account, Bill, TopUp
from pbx.ami import AmiResponse
from pbx.ami_codec import ActionFields
from pbx.ports import Call, CallGone, Digits

CONNECT_CONTEXT = "hotline-connect"  # the dialplan context that rings an agent's phone
PROMPTS = "sounds"  # where Asterisk finds prompts, as the menus name them
RECORDINGS = "spool/recordings"  # where Asterisk writes recordings

VOUCHER, VOUCHER_PIN, VOUCHER_FEN = "4539578763621486", "123456", 5000

HOTLINE_YAML = """
numbers: {unified: "10000", start: main}
calendar: {hours: {mon: [00:00-23:59]}}
languages: {default: en, offered: [en]}
prompts:
  welcome: {text: {en: Welcome}}
  menu: {text: {en: "1 to top up, 0 for an agent"}}
  enter_voucher: {text: {en: Your voucher number}}
  enter_pin: {text: {en: Your PIN}}
  invalid_pin: {text: {en: That PIN is too short}}
  top_up_done: {text: {en: Done. Your new balance is}}
  voucher_refused: {text: {en: This voucher cannot be used}}
  top_up_failed: {text: {en: The top-up did not go through}}
  bye: {text: {en: Goodbye}}
menus:
  main: {kind: play, prompt: welcome, next: choose}
  choose:
    kind: choice
    prompt: menu
    keys: {"1": enter_voucher, "0": agent}
  enter_voucher:
    kind: collect
    prompt: enter_voucher
    store_as: voucher
    min_digits: 16
    max_digits: 19
    validate: luhn
    next: enter_pin
  enter_pin:
    kind: collect
    prompt: enter_pin
    store_as: pin
    min_digits: 6
    max_digits: 8
    retries: 1
    invalid: invalid_pin
    sensitive: true
    next: top_up
  top_up:
    kind: top_up
    voucher_from: voucher
    pin_from: pin
    next: say_new_balance
    wrong_pin: top_up_failed
    refused: voucher_refused
    failed: top_up_failed
  say_new_balance:
    {kind: say, what: money, value: new_balance, prompt: top_up_done, next: bye}
  voucher_refused: {kind: play, prompt: voucher_refused, next: bye}
  top_up_failed: {kind: play, prompt: top_up_failed, next: bye}
  bye: {kind: hangup, prompt: bye}
  agent: {kind: queue, queue: billing}
  survey: {kind: hangup, prompt: bye}
skills: {billing: {name: Billing}}
agents:
  "1001": {name: Zhou Min, endpoint: PJSIP/agent-1001, skills: {billing: 7}}
  "1002": {name: Wu Lei, endpoint: PJSIP/agent-1002, skills: {billing: 9}}
queues:
  billing: {name: Billing, skills: {billing: 6}, ring_timeout: 12s}
vip:
  tiers:
    gold: {priority: 200, max_wait: 40s}
    normal: {priority: 0, max_wait: 5m}
recording: {enabled: true, format: mixed}
sampling: {rate: 0.1, survey: survey}
"""


def hotline_config() -> HotlineConfig:
    """A small hotline: a welcome, a menu (1 top-up, 0 an agent), one queue, two agents."""
    return load_text(HOTLINE_YAML, "hotline.yaml").config


class FixedConfig:
    """The live config as the menus read it: one version, never changing."""

    def __init__(self, config: HotlineConfig) -> None:
        self.config = config


def a_call(call_id: str = "1700000000.42", number: str = "13800000001") -> Call:
    return Call(call_id, f"PJSIP/trunk-{call_id}", number, "", "10000")


@dataclass(frozen=True, slots=True)
class Event:
    """One thing on the line: `what` is prompt, typed, recording, mute, hold, hangup,
    redirect or voice; `recorded` says whether the call's recording took it in."""

    what: str
    detail: str
    recorded: bool


class ScriptedLine:
    """A caller who presses the next scripted keys whenever the engine reads keys."""

    def __init__(self, call: Call, keys: Iterable[str] = ()) -> None:
        self.call = call
        self.keys = list(keys)
        self.events: list[Event] = []
        self.recording: tuple[str, str] | None = None  # (path, options) once started
        self.muted = False
        self.secrets_kept = 0  # how often the menu said a secret comes (listeners cut)
        self.variables: dict[str, str] = {}
        self.gone = asyncio.Event()

    def _note(self, what: str, detail: str) -> None:
        if self.gone.is_set():
            raise CallGone(f"{self.call.channel} is no longer in AGI")
        self.events.append(Event(what, detail, self.recording is not None and not self.muted))

    def leave(self) -> None:
        """Asterisk took the caller out of AGI (a Redirect, a hangup)."""
        self.gone.set()

    @property
    def heard(self) -> list[str]:
        """The prompts the caller heard, in order, as `language/name`."""
        return [e.detail.removeprefix(f"{PROMPTS}/") for e in self.events if e.what == "prompt"]

    def typed(self, *, recorded: bool) -> list[str]:
        """What the caller typed that went into the recording, or that was kept out."""
        return [e.detail for e in self.events if e.what == "typed" and e.recorded == recorded]

    # --- CallControl ------------------------------------------------------------------

    async def play(self, prompt: str, interrupt_keys: str = "") -> str:
        self._note("prompt", prompt)
        return ""

    async def read_digits(self, prompt: str, *, timeout: float, max_digits: int,
                          secret: bool = False) -> Digits:
        self._note("prompt", prompt)
        keys = self.keys.pop(0) if self.keys else ""
        if keys:
            self._note("typed", keys)
        return Digits(keys[:max_digits], timed_out=not keys)

    async def say_digits(self, digits: str, interrupt_keys: str = "") -> str:
        self._note("prompt", f"digits {digits}")
        return ""

    async def say_number(self, number: int, interrupt_keys: str = "") -> str:
        self._note("prompt", f"number {number}")
        return ""

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def hang_up(self) -> None:
        self._note("hangup", "")
        self.leave()

    async def redirect(self, context: str, exten: str, priority: int = 1) -> None:
        self._note("redirect", f"{context},{exten},{priority}")
        self.leave()

    async def start_recording(self, path: str, options: str = "") -> None:
        self.recording = (path, options)
        self._note("recording", path)

    async def keep_secret(self) -> None:
        self.secrets_kept += 1

    async def mute_recording(self, muted: bool) -> None:
        self._note("mute", "on" if muted else "off")
        self.muted = muted

    async def hold(self, music_class: str, seconds: float) -> None:
        last = self.events[-1] if self.events else None
        if last is None or (last.what, last.detail) != ("hold", music_class):
            self._note("hold", music_class)
        try:
            await asyncio.wait_for(self.gone.wait(), timeout=min(seconds, 0.01))
        except TimeoutError:
            return
        raise CallGone(f"{self.call.channel} is no longer in AGI")

    async def record_voice(self, path: str, *, max_seconds: float) -> bool:
        self._note("voice", path)
        return True

    async def mark(self, note: str) -> None:
        self._note("mark", note)


class WireAmi:
    """The AMI connection as the connecting code uses it; `wire` is every action sent,
    in order. A Redirect of a line it carries takes that caller out of AGI."""

    def __init__(self) -> None:
        self.wire: list[dict[str, str]] = []
        self._lines: dict[str, ScriptedLine] = {}

    def carry(self, line: ScriptedLine) -> None:
        self._lines[line.call.channel] = line

    def start_action(self, fields: ActionFields, *, timeout: float | None = None,
                     check: bool = True) -> Awaitable[AmiResponse]:
        action = {name: value if isinstance(value, str) else
                  str(value) if isinstance(value, int) else ",".join(value)
                  for name, value in fields.items()}
        self.wire.append(action)
        line = self._lines.get(action.get("Channel", ""))
        if action.get("Action") == "Redirect" and line is not None:
            line.leave()
        answer: asyncio.Future[AmiResponse] = asyncio.get_running_loop().create_future()
        answer.set_result(AmiResponse({"Response": "Success"}))
        return answer

    async def send_action(self, fields: ActionFields, *, timeout: float | None = None,
                          check: bool = True) -> AmiResponse:
        return await self.start_action(fields, timeout=timeout, check=check)

    def sent(self, action: str) -> list[dict[str, str]]:
        return [a for a in self.wire if a.get("Action") == action]


async def until(done: Callable[[], bool], what: str, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        await asyncio.sleep(0.002)


def rung_agent(wire: list[dict[str, str]], channel: str,
               endpoints: Mapping[str, str]) -> str | None:
    """The agent whose phone Asterisk dials for the caller on `channel`, as the
    `hotline-connect` dialplan decides: the agent named in the extension (`12-1001`), or,
    at extension `s`, the dial string set on the channel before the Redirect. None when
    the caller is not moved there."""
    dial = ""
    for action in wire:
        if action.get("Channel") != channel:
            continue
        if action.get("Action") == "Setvar" and action.get("Variable") == "HOTLINE_AGENT_DIAL":
            dial = action.get("Value", "")
        if action.get("Action") == "Redirect" and action.get("Context") == CONNECT_CONTEXT:
            exten = action.get("Exten", "")
            if exten != "s":
                return exten.split("-", 1)[1] if "-" in exten else None
            return next((a for a, endpoint in endpoints.items() if endpoint == dial), None)
    return None


def screen_pop(wire: list[dict[str, str]], channel: str) -> dict[str, str]:
    """The caller's channel variables (what the agent's screen shows), as set on the wire."""
    return {a["Variable"]: a.get("Value", "") for a in wire
            if a.get("Action") == "Setvar" and a.get("Channel") == channel
            and a.get("Variable", "").startswith("HOTLINE_")}


class MemoryBilling:
    """Accounts and vouchers in memory: each voucher credits once."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.vouchers: dict[str, tuple[str, int]] = {}  # voucher -> (PIN, value)
        self.used: set[str] = set()

    async def account(self, number: str) -> Account | None:
        return self.accounts.get(number)

    async def last_bill(self, number: str) -> Bill | None:
        return None

    async def redeem(self, number: str, voucher: str, pin: str, request_id: str) -> TopUp:
        account, card = self.accounts.get(number), self.vouchers.get(voucher)
        if account is None:
            return TopUp("no_account")
        if card is None:
            return TopUp("unknown_voucher")
        if voucher in self.used:
            return TopUp("used")
        if card[0] != pin:
            return TopUp("wrong_pin")
        self.used.add(voucher)
        self.accounts[number] = Account(number, account.balance_fen + card[1], account.tier)
        return TopUp("credited", account.balance_fen + card[1], card[1])

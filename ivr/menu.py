"""The menu interpreter: walks the routing YAML's menu tree for one caller.

It reads the live config at the start of every node, so a caller finishes the node
they are in under the version they started it with and continues under a new one.
Decisions are the pure functions of `choices` and `hours`; the caller's line is only
reached through `CallControl`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from config.menus import (
    BusinessHours,
    Choice,
    Collect,
    Goto,
    HangUp,
    Node,
    Play,
    Say,
    SelfService,
    SetLanguage,
    ToQueue,
    VipBranch,
    VoiceComment,
)
from config.model import HotlineConfig
from ivr import spoken_words
from ivr.billing import BillingBackend, BillingUnavailable
from ivr.choices import GiveUp, Go, Retry, after_key, luhn_ok
from ivr.hours import is_open
from pbx.ports import CallControl

log = logging.getLogger(__name__)

AT_NODE = "menu"  # the journal's mark of a node the caller reached: "menu <node> <lang>"

# More node visits than any real caller makes: ends a loop a config check missed.
MAX_STEPS = 200


class ConfigSource(Protocol):
    @property
    def config(self) -> HotlineConfig: ...


@dataclass
class Caller:
    """What the menu knows of one caller; `values` holds collected digits and answers."""

    language: str
    tier: str = "normal"
    path: list[str] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    recording: bool = False


@dataclass(frozen=True, slots=True)
class MenuExit:
    """How a caller leaves the menu tree."""

    kind: Literal["queue", "hangup", "person"]
    queue: str = ""
    boost: int = 0
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Prompts:
    """Where Asterisk finds the rendered prompts: `{directory}/{language}/{prompt}`, and
    the words amounts are said with: `{directory}/{language}/say/{word}`."""

    directory: str

    def path(self, config: HotlineConfig, name: str, language: str) -> str:
        prompt = config.prompts.get(name)
        if prompt is not None and prompt.file:
            return prompt.file
        if prompt is not None and language not in prompt.text:
            language = config.languages.default
        return f"{self.directory}/{language}/{name}"

    def word(self, language: str, word: str) -> str:
        language = language if language in spoken_words.WORDS else "en"
        return f"{self.directory}/{language}/say/{word}"


@dataclass(frozen=True, slots=True)
class MenuServices:
    """What the menu needs besides the caller's line."""

    prompts: Prompts
    now: Callable[[], dt.datetime]
    billing: BillingBackend | None = None
    # Where a caller's spoken comment goes, by call id (as Asterisk sees it); None:
    # comments are not taken on this line.
    comment_path: Callable[[str], str] | None = None


Step = str | MenuExit


def straight_to_queue(config: HotlineConfig, start: str | None) -> ToQueue | None:
    """The queue node a call starting at `start` joins before any prompt or key, if it
    starts at one: such a caller can be matched as the call arrives."""
    node = config.menus.get(start) if start is not None else None
    return node if isinstance(node, ToQueue) else None


async def run_menu(line: CallControl, source: ConfigSource, start: str, caller: Caller,
                   services: MenuServices) -> MenuExit:
    name = start
    for _ in range(MAX_STEPS):
        config = source.config  # the version live as this node starts
        node = config.menus.get(name)
        if node is None:
            if config.fallback and config.fallback in config.menus and name != config.fallback:
                log.warning("menu node %r is gone from the live config; caller to %r",
                            name, config.fallback)
                name = config.fallback
                continue
            log.warning("menu node %r is gone from the live config; caller to a person", name)
            return MenuExit("person", reason=f"menu node '{name}' no longer exists")
        caller.path.append(name)
        # Where an engine taking the call over resumes it (and in which language).
        await line.mark(f"{AT_NODE} {name} {caller.language}")
        step = await _run_node(line, config, node, caller, services)
        if isinstance(step, MenuExit):
            return step
        name = step
    return MenuExit("person", reason="the menu went round too long")


async def _run_node(line: CallControl, config: HotlineConfig, node: Node, caller: Caller,
                    services: MenuServices) -> Step:
    def say(name: str) -> str:
        return services.prompts.path(config, name, caller.language)

    match node:
        case Play():
            await line.play(say(node.prompt))
            return node.next
        case Choice():
            return await _choose(line, node, caller, say)
        case Collect():
            return await _collect(line, node, caller, say)
        case Say():
            if node.prompt:
                await line.play(say(node.prompt))
            for word in spoken(node, caller.values.get(node.value, ""), caller.language):
                await line.play(services.prompts.word(caller.language, word))
            return node.next
        case SelfService():
            return await self_service(line, config, node, caller, services)
        case ToQueue():
            return MenuExit("queue", queue=node.queue, boost=node.priority_boost)
        case Goto():
            return node.target
        case HangUp():
            if node.prompt:
                await line.play(say(node.prompt))
            await line.hang_up()
            return MenuExit("hangup")
        case SetLanguage():
            caller.language = node.language
            return node.next
        case BusinessHours():
            return node.open if is_open(config.calendar, services.now()) else node.closed
        case VipBranch():
            return node.tiers.get(caller.tier, node.otherwise)
        case VoiceComment():
            if services.comment_path is not None:
                path = services.comment_path(line.call.call_id)
                await line.play(say(node.prompt))
                if await line.record_voice(path, max_seconds=node.max_length):
                    caller.values["comment"] = path
                else:
                    log.warning("call %s: the spoken comment could not be recorded at %s",
                                line.call.call_id, path)
            return node.next
    return MenuExit("person", reason=f"node kind '{node.kind}' cannot run here")


async def _choose(line: CallControl, node: Choice, caller: Caller,
                  say: Callable[[str], str]) -> Step:
    attempt = 1
    while True:
        answer = await line.read_digits(say(node.prompt), timeout=node.timeout, max_digits=1)
        decision = after_key(node, answer.digits, attempt)
        if isinstance(decision, Go):
            caller.values[f"key:{caller.path[-1]}"] = answer.digits  # a survey's grade
            return decision.node
        if isinstance(decision, GiveUp):
            return decision.node or MenuExit("person", reason="no valid choice")
        if isinstance(decision, Retry) and decision.prompt:
            await line.play(say(decision.prompt))
        attempt += 1


async def _collect(line: CallControl, node: Collect, caller: Caller,
                   say: Callable[[str], str]) -> Step:
    mute = node.sensitive and caller.recording
    if node.sensitive:
        await line.keep_secret()
    for attempt in range(1, node.retries + 2):
        if mute:
            await line.mute_recording(True)
        try:
            # Collected digits (cards, PINs) are customer secrets: never journaled.
            typed = await line.read_digits(say(node.prompt), timeout=node.timeout,
                                           max_digits=node.max_digits, secret=True)
        finally:
            if mute:
                await line.mute_recording(False)
        digits = typed.digits
        valid = len(digits) >= node.min_digits and (
            node.validate_as != "luhn" or luhn_ok(digits))
        if valid:
            caller.values[node.store_as] = digits
            return node.next
        if attempt <= node.retries and node.invalid:
            await line.play(say(node.invalid))
    return node.fallback or MenuExit("person", reason=f"no valid {node.store_as}")


def spoken(node: Say, value: str, language: str) -> list[str]:
    """The words that say a value: money and numbers in words, digits one by one."""
    if not value:
        return []
    if node.what == "money":
        return spoken_words.money(int(value), language)
    if node.what == "date":
        return spoken_words.date(dt.date.fromisoformat(value), language)
    if node.what == "number":
        number = spoken_words.zh_number if language == "zh" else spoken_words.en_number
        return number(int(value))
    digit_words = spoken_words.ZH_DIGITS if language == "zh" else spoken_words.EN_SMALL
    return [digit_words[int(ch)] for ch in value if ch.isdigit()]


async def self_service(line: CallControl, config: HotlineConfig, node: SelfService,
                       caller: Caller, services: MenuServices) -> Step:
    """Ask the billing backend; whatever goes wrong, the caller is never stuck."""
    failed: Step = node.failed or MenuExit("person", reason=f"{node.kind} unavailable")
    backend = services.billing
    number = line.call.caller_number
    if backend is None or not number:
        return failed
    try:
        async with asyncio.timeout(config.backends.billing.timeout):
            if node.kind == "balance":
                account = await backend.account(number)
                if account is None:
                    return failed
                caller.values["balance"] = str(account.balance_fen)
            elif node.kind == "last_bill":
                bill = await backend.last_bill(number)
                if bill is None:
                    return failed
                caller.values["bill_amount"] = str(bill.amount_fen)
                caller.values["bill_due"] = bill.due.isoformat()
            else:
                return await _top_up(line, node, caller, backend, number, failed)
    except (TimeoutError, BillingUnavailable) as exc:
        log.warning("call %s: billing backend failed (%s); %s", line.call.call_id,
                    exc or "timed out", "to a person" if node.failed is None else node.failed)
        return failed
    return node.next


async def _top_up(line: CallControl, node: SelfService, caller: Caller,
                  backend: BillingBackend, number: str, failed: Step) -> Step:
    voucher = caller.values.get(node.voucher_from or "", "")
    pin = caller.values.pop(node.pin_from or "", "")  # a PIN is used once, then forgotten
    # One id per answered attempt: a request that timed out and is sent again keeps its
    # id, so the backend answers it once.
    attempt = caller.values.get("_top_up_attempt", "0")
    result = await backend.redeem(number, voucher, pin,
                                  request_id=f"{line.call.call_id}:{attempt}")
    caller.values["_top_up_attempt"] = str(int(attempt) + 1)
    if result.outcome == "credited" and result.new_balance_fen is not None:
        caller.values["new_balance"] = str(result.new_balance_fen)
        caller.values.pop(node.voucher_from or "", None)
        return node.next
    if result.outcome == "wrong_pin":
        return node.wrong_pin or failed
    return node.refused or failed

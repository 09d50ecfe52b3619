"""The menu interpreter: walks the routing YAML's menu tree for one caller.

It reads the live config at the start of every node, so a caller finishes the node
they are in under the version they started it with and continues under a new one.
Decisions are the pure functions of `choices` and `hours`; the caller's line is only
reached through `CallControl`.
"""

from __future__ import annotations

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
)
from config.model import HotlineConfig
from ivr.choices import GiveUp, Go, Retry, after_key, luhn_ok
from ivr.hours import is_open
from pbx.ports import CallControl

log = logging.getLogger(__name__)

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
    """Where Asterisk finds the rendered prompts: `{directory}/{language}/{prompt}`."""

    directory: str

    def path(self, config: HotlineConfig, name: str, language: str) -> str:
        prompt = config.prompts.get(name)
        if prompt is not None and prompt.file:
            return prompt.file
        if prompt is not None and language not in prompt.text:
            language = config.languages.default
        return f"{self.directory}/{language}/{name}"


Step = str | MenuExit


async def run_menu(line: CallControl, source: ConfigSource, start: str, caller: Caller,
                   prompts: Prompts, now: Callable[[], dt.datetime]) -> MenuExit:
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
        step = await _run_node(line, config, node, caller, prompts, now)
        if isinstance(step, MenuExit):
            return step
        name = step
    return MenuExit("person", reason="the menu went round too long")


async def _run_node(line: CallControl, config: HotlineConfig, node: Node, caller: Caller,
                    prompts: Prompts, now: Callable[[], dt.datetime]) -> Step:
    def say(name: str) -> str:
        return prompts.path(config, name, caller.language)

    match node:
        case Play():
            await line.play(say(node.prompt))
            return node.next
        case Choice():
            return await _choose(line, node, say)
        case Collect():
            return await _collect(line, node, caller, say)
        case Say():
            if node.prompt:
                await line.play(say(node.prompt))
            await _say_value(line, node, caller.values.get(node.value, ""))
            return node.next
        case SelfService():
            # The billing backend arrives with the self-service issue: until then the
            # caller is told and taken to the node's `failed` path, or to a person.
            return node.failed or MenuExit("person", reason=f"{node.kind} unavailable")
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
            return node.open if is_open(config.calendar, now()) else node.closed
        case VipBranch():
            return node.tiers.get(caller.tier, node.otherwise)
    return MenuExit("person", reason=f"node kind '{node.kind}' cannot run here")


async def _choose(line: CallControl, node: Choice, say: Callable[[str], str]) -> Step:
    attempt = 1
    while True:
        answer = await line.read_digits(say(node.prompt), timeout=node.timeout, max_digits=1)
        decision = after_key(node, answer.digits, attempt)
        if isinstance(decision, Go):
            return decision.node
        if isinstance(decision, GiveUp):
            return decision.node or MenuExit("person", reason="no valid choice")
        if isinstance(decision, Retry) and decision.prompt:
            await line.play(say(decision.prompt))
        attempt += 1


async def _collect(line: CallControl, node: Collect, caller: Caller,
                   say: Callable[[str], str]) -> Step:
    mute = node.sensitive and caller.recording
    for attempt in range(1, node.retries + 2):
        if mute:
            await line.mute_recording(True)
        try:
            typed = await line.read_digits(say(node.prompt), timeout=node.timeout,
                                           max_digits=node.max_digits)
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


async def _say_value(line: CallControl, node: Say, value: str) -> None:
    if node.what == "digits" or node.what == "date":
        await line.say_digits("".join(ch for ch in value if ch.isdigit()))
    elif value:
        await line.say_number(int(float(value)))

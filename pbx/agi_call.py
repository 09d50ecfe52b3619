"""AsyncAGI over AMI: one caller's line driven by AGI commands, paired by CommandId.

panoramisk's `send_agi_command` never completes on Asterisk 22 (it waits for a
`SubEvent` that Asterisk 12+ no longer sends), so the pairing is ours: an `AGI` action
carries a `CommandID`, and the `AsyncAGIExec` event that carries the same `CommandId`
resolves the command's future. A command pending when the channel leaves AGI, hangs up,
or AMI drops fails at once with `CallGone`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from pbx import agi
from pbx.agi import AgiResult
from pbx.ami import AmiActionFailed, AmiConnection, AmiDisconnected, AmiError, AmiResponse
from pbx.ports import JOURNAL_MARK, Call, CallGone, Digits

T = TypeVar("T")

# Commands that leave hold music playing (every other one plays or ends something).
_KEEP_MUSIC = ("SET MUSIC", "WAIT FOR DIGIT")

# (command line, result or None when it failed, reason when it failed)
CommandObserver = Callable[[str, AgiResult | None, str], Awaitable[None]]


@dataclass(slots=True)
class _Command:
    call: AgiCall
    future: asyncio.Future[AgiResult]
    line: str


def mask(result: AgiResult) -> AgiResult:
    """The result with typed digits hidden, for journals: length kept, digits gone."""
    if result.result in ("", "-1"):
        return result
    return AgiResult(result.code, "•" * len(result.result), result.data, result.extra)


async def _nobody_listens(_call_id: str) -> None:
    return None


class AgiCalls:
    """All calls currently under AGI control, and their commands in flight."""

    def __init__(self, ami: AmiConnection, command_timeout: float = 180.0) -> None:
        self.ami = ami
        self.command_timeout = command_timeout
        self.calls: dict[str, AgiCall] = {}  # by channel name
        # Told how long each AGI command took, from sending it to its result (seconds).
        self.on_round_trip: Callable[[float], None] = lambda _: None
        # Told a caller (by call id) is about to type a secret: whoever listens in is
        # cut off before the first key.
        self.on_secret: Callable[[str], Awaitable[None]] = _nobody_listens
        self.commands: dict[str, _Command] = {}  # by CommandID
        self._ids = itertools.count(1)

    def open(self, call: Call, observer: CommandObserver | None = None) -> AgiCall:
        line = AgiCall(self, call, observer)
        self.calls[call.channel] = line
        return line

    def close(self, line: AgiCall) -> None:
        if self.calls.get(line.call.channel) is line:
            del self.calls[line.call.channel]

    def next_command_id(self) -> str:
        return f"{self.ami.id_prefix}-c{next(self._ids)}"

    # --- from AMI events ------------------------------------------------------------

    def command_finished(self, command_id: str, result: AgiResult) -> None:
        command = self.commands.pop(command_id, None)
        if command is not None and not command.future.done():
            command.future.set_result(result)

    def channel_gone(self, channel: str, reason: str) -> None:
        line = self.calls.get(channel)
        if line is not None:
            line.gone(reason)

    def left_agi(self, channel: str) -> None:
        """The channel left AsyncAGI: moved on by the engine's Redirect, or hung up."""
        moved = self.ami.moved_by_us(channel)
        self.channel_gone(channel, "sent on by the engine" if moved else "hung up")

    def everything_gone(self, reason: str) -> None:
        for line in list(self.calls.values()):
            line.gone(reason)


class AgiCall:
    """`CallControl` for one caller in AsyncAGI."""

    def __init__(self, calls: AgiCalls, call: Call, observer: CommandObserver | None) -> None:
        self.call = call
        self._calls = calls
        self._observer = observer
        self._gone_reason: str | None = None
        self._in_flight: set[str] = set()
        self._music: str | None = None  # the hold music class playing now, if any

    @property
    def is_gone(self) -> bool:
        return self._gone_reason is not None

    def gone(self, reason: str) -> None:
        """The line is lost: every command waiting on it fails now."""
        if self._gone_reason is None:
            self._gone_reason = reason
        for command_id in list(self._in_flight):
            command = self._calls.commands.pop(command_id, None)
            if command is not None and not command.future.done():
                command.future.set_exception(CallGone(reason))
        self._in_flight.clear()

    async def run(self, line: str, secret: bool = False) -> AgiResult:
        """Run one AGI command line on this channel and return its result. With
        `secret`, observers see the result's digits masked."""
        if self._gone_reason is not None:
            raise CallGone(self._gone_reason)
        if not line.startswith(_KEEP_MUSIC):
            self._music = None  # a prompt or a hangup ends the hold music
        command_id = self._calls.next_command_id()
        future: asyncio.Future[AgiResult] = asyncio.get_running_loop().create_future()
        self._calls.commands[command_id] = _Command(self, future, line)
        self._in_flight.add(command_id)
        sent = time.monotonic()
        try:
            try:
                await self._calls.ami.send_action({
                    "Action": "AGI", "Channel": self.call.channel,
                    "Command": line, "CommandID": command_id})
            except AmiActionFailed as exc:
                # "Channel does not exist" or "not in AsyncAGI": the caller left.
                self.gone(exc.message)
            except AmiError as exc:
                self.gone(str(exc))
            if self._gone_reason is not None and not future.done():
                raise CallGone(self._gone_reason)
            try:
                result = await asyncio.wait_for(future, self._calls.command_timeout)
            except TimeoutError:
                raise CallGone(f"no AGI result for {line!r}") from None
        except CallGone as exc:
            await self._observe(line, None, str(exc))
            raise
        finally:
            self._in_flight.discard(command_id)
            self._calls.commands.pop(command_id, None)
        self._calls.on_round_trip(time.monotonic() - sent)
        await self._observe(line, mask(result) if secret else result, "")
        if result.code == 200 and result.result == "-1":
            # How AGI says the channel hung up during the command: in the words of the
            # AsyncAGIEnd that follows, whichever of the two is heard first.
            self.gone("hung up")
            raise CallGone(self._gone_reason or "")
        if result.code != 200:
            self.gone(f"{line!r} answered {result.code} result={result.result}")
            raise CallGone(self._gone_reason or "")
        return result

    async def _observe(self, line: str, result: AgiResult | None, reason: str) -> None:
        if self._observer is not None:
            await self._observer(line, result, reason)

    # --- CallControl ----------------------------------------------------------------

    async def play(self, prompt: str, interrupt_keys: str = "") -> str:
        result = await self.run(agi.command("STREAM FILE", prompt, interrupt_keys))
        return result.key

    async def read_digits(self, prompt: str, *, timeout: float, max_digits: int,
                          secret: bool = False) -> Digits:
        result = await self.run(
            agi.command("GET DATA", prompt, int(timeout * 1000), max_digits), secret=secret)
        return Digits(digits=result.result, timed_out=result.timed_out)

    async def say_digits(self, digits: str, interrupt_keys: str = "") -> str:
        result = await self.run(agi.command("SAY DIGITS", digits, interrupt_keys))
        return result.key

    async def say_number(self, number: int, interrupt_keys: str = "") -> str:
        result = await self.run(agi.command("SAY NUMBER", number, interrupt_keys))
        return result.key

    async def set_variable(self, name: str, value: str) -> None:
        # Setvar over AMI runs at once; an AGI SET VARIABLE waits for the next media frame.
        await self._action({"Action": "Setvar", "Channel": self.call.channel,
                            "Variable": name, "Value": value})

    def set_variables_now(self, variables: dict[str, str]) -> Awaitable[None]:
        """Setvar actions written before this returns, their answers left to await: the
        menu need not wait for them, as Asterisk runs one AMI session's actions in order
        (whatever is sent next finds them set). Awaiting raises CallGone or AmiError as
        `set_variable` does."""
        if self._gone_reason is not None:
            raise CallGone(self._gone_reason)
        try:
            answers = [self._calls.ami.start_action({
                "Action": "Setvar", "Channel": self.call.channel, "Variable": name,
                "Value": value}) for name, value in variables.items()]
        except AmiDisconnected as exc:
            raise CallGone(f"Setvar: {exc}") from exc
        return self._answered("Setvar", self._all(answers))

    @staticmethod
    async def _all(answers: list[Awaitable[AmiResponse]]) -> None:
        await asyncio.gather(*answers)

    async def hang_up(self) -> None:
        await self.run("HANGUP")

    async def redirect(self, context: str, exten: str, priority: int = 1) -> None:
        await self._action({"Action": "Redirect", "Channel": self.call.channel,
                            "Context": context, "Exten": exten, "Priority": priority})

    async def start_recording(self, path: str, options: str = "") -> None:
        await self._action({"Action": "MixMonitor", "Channel": self.call.channel,
                            "File": path, "Options": options})
        await self._observe(f"RECORDING STARTED {path}", None, "")

    async def keep_secret(self) -> None:
        await self._calls.on_secret(self.call.call_id)

    async def mute_recording(self, muted: bool) -> None:
        await self._action({"Action": "MixMonitorMute", "Channel": self.call.channel,
                            "Direction": "both", "State": 1 if muted else 0})
        await self._observe("RECORDING MUTED" if muted else "RECORDING RESUMED", None, "")

    async def hold(self, music_class: str, seconds: float) -> None:
        if self._music != music_class:
            await self.run(agi.command("SET MUSIC", "ON", music_class))
            self._music = music_class
        await self.run(agi.command("WAIT FOR DIGIT", int(seconds * 1000)))

    async def record_voice(self, path: str, *, max_seconds: float) -> bool:
        # Not AGI RECORD FILE: on Asterisk 22 it wrote no audio from a Local channel's
        # peer, where a MixMonitor of the same channel has every frame.
        await self.play("beep")
        try:
            started = await self._action({"Action": "MixMonitor",
                                          "Channel": self.call.channel, "File": f"{path}.wav"})
        except AmiActionFailed:
            return False
        monitor = started.fields.get("MixMonitorID", "")
        await self._observe(f"COMMENT STARTED {path}.wav", None, "")
        try:
            deadline = asyncio.get_running_loop().time() + max_seconds
            while (left := deadline - asyncio.get_running_loop().time()) > 0:
                pressed = await self.run(agi.command("WAIT FOR DIGIT", int(left * 1000)))
                if not pressed.ok or pressed.key in ("#", ""):
                    break  # done, or as long as a message may be
        except CallGone:
            pass  # hanging up is how many callers finish: the file has what they said
        finally:
            stop: dict[str, str | int] = {"Action": "StopMixMonitor",
                                          "Channel": self.call.channel}
            if monitor:
                stop["MixMonitorID"] = monitor
            with contextlib.suppress(CallGone):
                await self._action(stop)
        return True

    async def mark(self, note: str) -> None:
        await self._observe(f"{JOURNAL_MARK} {note}", None, "")

    async def _action(self, fields: dict[str, str | int]) -> AmiResponse:
        """An AMI action on this channel. Only a channel that is gone is CallGone; any
        other refusal (permissions, a bad argument) is an engine problem: AmiError."""
        if self._gone_reason is not None:
            raise CallGone(self._gone_reason)
        return await self._answered(str(fields["Action"]), self._calls.ami.send_action(fields))

    async def _answered(self, what: str, answer: Awaitable[T]) -> T:
        """Asterisk's answer to an action on this channel: a channel gone (or AMI) is
        CallGone, as for any command."""
        try:
            return await answer
        except AmiActionFailed as exc:
            if exc.no_such_channel:
                self.gone(exc.message)
                raise CallGone(f"{what}: {exc.message}") from exc
            raise
        except AmiDisconnected as exc:
            raise CallGone(f"{what}: {exc}") from exc

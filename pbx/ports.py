"""What the domain rooms may ask of the phone system, and nothing of how.

`ivr`, `routing`, `agents` and `quality` import this module only; it imports nothing of
panoramisk, so the same menu code runs against the real Asterisk, the simulator and a
scripted fake in unit tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# How `CallControl.mark` notes appear in a call's journal: "NOTE <note>".
JOURNAL_MARK = "NOTE"


class CallGone(Exception):
    """The caller is no longer reachable: hung up, sent on by the engine, or the
    engine lost Asterisk. Whatever was pending for the call will not happen."""

    @property
    def asterisk_shut_down(self) -> bool:
        """Cut off by Asterisk shutting down (a restart), not by the caller."""
        return str(self) == ASTERISK_SHUT_DOWN


# Why a call is gone when Asterisk hangs it up because it is shutting down.
ASTERISK_SHUT_DOWN = "cut off: Asterisk shut down"


@dataclass(frozen=True, slots=True)
class Call:
    """A caller's line as the engine first sees it."""

    call_id: str  # Asterisk's unique id of the caller's channel
    channel: str
    caller_number: str
    caller_name: str
    dialled_number: str
    language: str = "en"
    variables: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Digits:
    """What a caller typed: `digits` may be shorter than asked when `timed_out`."""

    digits: str
    timed_out: bool


class CallControl(Protocol):
    """Controls one caller's line while the engine serves it."""

    call: Call

    async def play(self, prompt: str, interrupt_keys: str = "") -> str:
        """Play a prompt; return the key that interrupted it, or ""."""

    async def read_digits(self, prompt: str, *, timeout: float, max_digits: int,
                          secret: bool = False) -> Digits:
        """Play a prompt and collect up to `max_digits` keys (barge-in allowed). With
        `secret`, the digits are kept out of every journal and log."""

    async def say_digits(self, digits: str, interrupt_keys: str = "") -> str:
        """Say each digit ("one two five"); return an interrupting key or ""."""

    async def say_number(self, number: int, interrupt_keys: str = "") -> str:
        """Say a whole number ("one hundred twenty five")."""

    async def set_variable(self, name: str, value: str) -> None:
        """Set a channel variable (caller details for the agent's screen pop)."""

    async def hang_up(self) -> None:
        """End the call."""

    async def redirect(self, context: str, exten: str, priority: int = 1) -> None:
        """Move the caller to a dialplan location (connect to an agent, fallback)."""

    async def start_recording(self, path: str, options: str = "") -> None:
        """Record the call into `path` (as Asterisk sees it) from now until hangup."""

    async def keep_secret(self) -> None:
        """The caller is about to type a secret (a card number, a PIN): nobody who is
        listening in may hear it."""

    async def mute_recording(self, muted: bool) -> None:
        """Write silence into the recording while a caller types a secret."""

    async def hold(self, music_class: str, seconds: float) -> None:
        """Hold music (a music-on-hold class) for up to `seconds`; it plays on across
        calls to `hold`, until a prompt is played."""

    async def record_voice(self, path: str, *, max_seconds: float) -> bool:
        """After a beep, record what the caller says into `path` (as Asterisk sees it,
        without extension; a WAV is written) until `#`, a hangup, or `max_seconds`.
        False when nothing could be recorded."""

    async def mark(self, note: str) -> None:
        """Write `note` into the call's journal (the menu node the caller reached), so
        that an engine taking the call over knows where the caller was."""


class Originator(Protocol):
    """Places new calls: satisfaction callbacks, and simulated callers."""

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        caller_id: str = "",
        variables: dict[str, str] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        timeout: float = 30.0,
    ) -> str:
        """Start a call to `channel`; when it answers it runs `context,exten,1`.
        Returns the new channel's unique id (`channel_id`, chosen by the caller of this
        method so that a retried request is recognised and never rings twice)."""

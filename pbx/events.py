"""AMI events turned into the engine's own small typed events.

`translate` is pure: a recorded AMI stream replayed through it gives the same events
every time, which is how call tracking is tested without a PBX.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from pbx.agi import AgiResult, parse_result
from pbx.ami_codec import Message
from pbx.ports import Call

_ENCODED_NEWLINE = re.compile("%0[aA]")


@dataclass(frozen=True, slots=True)
class CallArrived:
    """A channel entered AsyncAGI: a caller for the engine to serve."""

    call: Call


@dataclass(frozen=True, slots=True)
class AgiCommandFinished:
    channel: str
    command_id: str
    result: AgiResult


@dataclass(frozen=True, slots=True)
class CallLeftAgi:
    """The channel left AsyncAGI (hangup included): commands for it will never run."""

    channel: str


# The channel variable naming the hotline call a channel carries (set on the caller's
# channel once the engine claims it, and on a callback's customer leg). manager.conf's
# `channelvars` puts it in every channel event, so an event about some other channel
# (an agent's leg, a Local channel's other half, a call the hotline never saw) is known
# for what it is without a Redis read.
CALL_VARIABLE = "HOTLINE_CALL_ID"


def hotline_channel(msg: Message, header: str = "ChanVariable") -> bool:
    """Whether the event's channel may be a hotline call's: it carries the call
    variable, or Asterisk sends no channel variables at all (not configured: any
    channel may be)."""
    carried = msg.get(header)
    if carried is None:
        return True
    for pair in carried.split("\n"):
        name, _, value = pair.partition("=")
        if name == CALL_VARIABLE:
            return bool(value)
    return True  # other variables only: this one is not configured


@dataclass(frozen=True, slots=True)
class CallHungUp:
    channel: str
    call_id: str
    cause: int
    cause_text: str
    hotline: bool = True  # `hotline_channel`: False, not a hotline call's channel


@dataclass(frozen=True, slots=True)
class DeviceStateChanged:
    device: str  # "PJSIP/agent-1001"
    state: str  # NOT_INUSE, INUSE, RINGING, UNAVAILABLE, ...


@dataclass(frozen=True, slots=True)
class ShutdownHangup:
    """Asterisk is shutting down (a stop or a restart) and hangs this channel up: the
    caller did not choose to go. Comes before the channel's Hangup."""

    channel: str
    call_id: str


@dataclass(frozen=True, slots=True)
class HangupRequested:
    """A channel is asked to hang up, with the cause: for an agent's leg it comes just
    before the DialEnd, and tells a phone that refused the call (488: cause 58) from one
    nobody answered (both are DialStatus NOANSWER)."""

    channel: str
    cause: int


@dataclass(frozen=True, slots=True)
class DialEnded:
    channel: str
    call_id: str
    destination: str
    status: str  # ANSWER, NOANSWER, BUSY, CANCEL, CHANUNAVAIL, ...
    hotline: bool = True  # `hotline_channel` of the dialling channel


@dataclass(frozen=True, slots=True)
class UserEventReceived:
    """A `UserEvent(...)` from the dialplan."""

    name: str
    channel: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class OriginateFailed:
    """An Originate whose far end did not answer (no answer, busy, unreachable)."""

    channel_id: str
    reason: str  # Asterisk's cause code: 3 no answer, 5 busy, 8 congestion, ...
    context: str = ""  # where the Originate sent the answered channel ("": not said)


@dataclass(frozen=True, slots=True)
class OriginateAnswered:
    """An Originate whose far end answered: the new channel runs its dialplan now."""

    channel_id: str
    channel: str
    context: str = ""  # where the Originate sent the answered channel ("": not said)


@dataclass(frozen=True, slots=True)
class AmiConnected:
    """Logged in to AMI (first time or after a reconnect); state may need a resync."""

    reconnect: bool


@dataclass(frozen=True, slots=True)
class AmiLost:
    reason: str


PbxEvent = (
    CallArrived
    | AgiCommandFinished
    | CallLeftAgi
    | CallHungUp
    | DeviceStateChanged
    | DialEnded
    | HangupRequested
    | ShutdownHangup
    | UserEventReceived
    | OriginateFailed
    | OriginateAnswered
    | AmiConnected
    | AmiLost
)


def agi_environment(encoded: str) -> dict[str, str]:
    """The `Env` header of AsyncAGIStart: URL-encoded `agi_name: value` lines.

    A value may itself hold an encoded line break (a hostile caller ID name), and such
    a line cannot be told apart from a real one. So the call's identity and caller ID
    are taken from the event's own headers, which Asterisk escapes, and from Env only
    variables that Asterisk writes after the caller ID: for those the last line wins,
    which is always Asterisk's own.
    """
    # One decode of the whole header gives the same lines as one decode per encoded
    # line, at half the cost (this is every call's first event): a break is ASCII, so no
    # character spans one. Only a raw LF in the header would add a break of its own.
    if "\n" in encoded:
        lines = [unquote(line) for line in _ENCODED_NEWLINE.split(encoded)]
    else:
        lines = unquote(encoded).split("\n")
    env: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(": ")
        if sep and name.startswith("agi_"):
            env[name] = value
    return env


def _unknown_as_empty(value: str) -> str:
    return "" if value in ("unknown", "<unknown>") else value


def _call_arrived(msg: Message) -> CallArrived:
    env = agi_environment(msg.get("Env", ""))
    dnid = _unknown_as_empty(env.get("agi_dnid", ""))
    # Local channels and many trunks carry no DNID; the extension that matched is the
    # number the caller dialled as far as the dialplan is concerned.
    dialled = dnid or msg.get("Exten", "")
    call = Call(
        call_id=msg.get("Uniqueid", ""),
        channel=msg.get("Channel", ""),
        caller_number=_unknown_as_empty(msg.get("CallerIDNum", "")),
        caller_name=_unknown_as_empty(msg.get("CallerIDName", "")),
        dialled_number=dialled,
        language=msg.get("Language", "en"),
        variables={k: v for k, v in env.items() if k.startswith("agi_arg_")},
    )
    return CallArrived(call)


def _agi_exec(msg: Message) -> AgiCommandFinished:
    return AgiCommandFinished(
        channel=msg.get("Channel", ""),
        command_id=msg.get("CommandId") or msg.get("CommandID", ""),
        result=parse_result(msg.get("Result", "")),
    )


def _hangup(msg: Message) -> CallHungUp:
    cause = msg.get("Cause", "0")
    return CallHungUp(
        channel=msg.get("Channel", ""),
        call_id=msg.get("Uniqueid", ""),
        cause=int(cause) if cause.isdigit() else 0,
        cause_text=msg.get("Cause-txt", ""),
        hotline=hotline_channel(msg),
    )


def _user_event(msg: Message) -> UserEventReceived:
    skip = {"Event", "UserEvent", "Channel", "Privilege"}
    return UserEventReceived(
        name=msg.get("UserEvent", ""),
        channel=msg.get("Channel", ""),
        fields=tuple((k, v) for k, v in msg.items() if k not in skip),
    )


# A soft hangup's cause is a set of flags; this one is Asterisk's AST_SOFTHANGUP_SHUTDOWN.
_SOFTHANGUP_SHUTDOWN = 0x04


def _soft_hangup(msg: Message) -> ShutdownHangup | None:
    cause = msg.get("Cause", "")
    if cause.isdigit() and int(cause) & _SOFTHANGUP_SHUTDOWN:
        return ShutdownHangup(channel=msg.get("Channel", ""), call_id=msg.get("Uniqueid", ""))
    return None


def _dial_end(msg: Message) -> DialEnded:
    call_id = msg.get("Uniqueid", "")
    return DialEnded(channel=msg.get("Channel", ""), call_id=call_id,
                     destination=msg.get("DestChannel", ""), status=msg.get("DialStatus", ""),
                     # An Originate's ring has no calling channel: nobody's call.
                     hotline=bool(call_id) and hotline_channel(msg))


def _originate_response(msg: Message) -> OriginateFailed | OriginateAnswered | None:
    match msg.get("Response"):
        case "Failure":
            return OriginateFailed(channel_id=msg.get("Uniqueid", ""),
                                   reason=msg.get("Reason", ""),
                                   context=msg.get("Context", ""))
        case "Success":
            return OriginateAnswered(channel_id=msg.get("Uniqueid", ""),
                                     channel=msg.get("Channel", ""),
                                     context=msg.get("Context", ""))
    return None


_TRANSLATORS: dict[str, Callable[[Message], PbxEvent | None]] = {
    "AsyncAGIStart": _call_arrived,
    "AsyncAGIExec": _agi_exec,
    "AsyncAGIEnd": lambda m: CallLeftAgi(channel=m.get("Channel", "")),
    "Hangup": _hangup,
    "HangupRequest": lambda m: HangupRequested(
        channel=m.get("Channel", ""),
        cause=int(m["Cause"]) if m.get("Cause", "").isdigit() else 0),
    "SoftHangupRequest": _soft_hangup,
    "DeviceStateChange": lambda m: DeviceStateChanged(
        device=m.get("Device", ""), state=m.get("State", "")),
    "DialEnd": _dial_end,
    "UserEvent": _user_event,
    "OriginateResponse": _originate_response,
}

# The AMI events that `translate` turns into ours: for any other it returns None.
TRANSLATED = frozenset(_TRANSLATORS)


def translate(msg: Message) -> PbxEvent | None:
    """Our event for an AMI event, or None for the many the engine does not use."""
    build = _TRANSLATORS.get(msg.get("Event", ""))
    return build(msg) if build is not None else None

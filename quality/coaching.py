"""A supervisor listening in on a live call: listen, whisper to the agent, or barge in.

Pure: whether a call may be listened to now, and how (which channel ChanSpy listens to,
with which options). The engine reads the call's state and the web side asks; neither
decides here.

PCI: nobody listens to a caller typing a card number or a PIN. A call at a sensitive
`collect` node is refused, and a listener already on a call in the menus is cut off
when the caller reaches one (`hotline.coaching`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from config.menus import Collect, MenuNode


class Mode(StrEnum):
    LISTEN = "listen"  # the supervisor hears both sides; nobody hears them
    WHISPER = "whisper"  # and talks to the agent; the caller does not hear it
    BARGE = "barge"  # and talks to both


# ChanSpy's options: q quiet (no beep, no channel name read out), E ends with the channel
# listened to, S ends when there is nothing to listen to; w whispers into the channel
# listened to (the agent's leg), B talks into both sides of its bridge.
SPY_OPTIONS = {Mode.LISTEN: "qES", Mode.WHISPER: "qESw", Mode.BARGE: "qESB"}

# A supervisor's phone is a dial string Asterisk originates to; it reaches an AMI header,
# so it holds nothing that could end a header or separate dial arguments.
_PHONE = re.compile(r"^[A-Za-z0-9]+/[A-Za-z0-9@:._;=+/-]{1,120}$")


class PhoneRefused(ValueError):
    """A phone the console cannot call a supervisor on, said for the admin."""


def check_phone(phone: str) -> str:
    """The supervisor's phone as Asterisk dials it, for example `PJSIP/sup-1`."""
    if not _PHONE.match(phone):
        raise PhoneRefused(f"'{phone}' is not a phone Asterisk can dial: give a dial "
                           "string such as PJSIP/sup-1")
    if phone.lower().startswith("local/"):
        # Verified on Asterisk 22: ChanSpy on a Local channel hears nothing and its
        # whisper reaches nobody. A softphone it must be.
        raise PhoneRefused("a Local channel cannot listen in (ChanSpy on a Local channel "
                           "hears and says nothing): give the supervisor's SIP phone, "
                           "such as PJSIP/sup-1")
    return phone


@dataclass(frozen=True, slots=True)
class CallNow:
    """A live call as Redis has it at this moment."""

    call_id: str
    live: bool  # the caller is still on the line
    caller_channel: str
    queue_state: str = ""  # "", waiting, offered, connected, ended, gone
    agent_id: str = ""
    agent_leg: str = ""  # the agent's channel, once they answered
    node: str = ""  # the menu node the caller last reached
    typing_secret: bool = False  # the recording is muted for a secret right now


@dataclass(frozen=True, slots=True)
class ListenOn:
    channel: str  # what ChanSpy listens to
    options: str
    agent_id: str = ""  # "" for a caller without an agent


@dataclass(frozen=True, slots=True)
class Refused:
    reason: str  # a word for the page and the audit: over, secret, no_agent
    said: str  # for the supervisor


def secret_nodes(menus: Mapping[str, MenuNode]) -> frozenset[str]:
    """The nodes at which a caller types a secret (the YAML's `sensitive` collects)."""
    return frozenset(name for name, node in menus.items()
                     if isinstance(node, Collect) and node.sensitive)


def listen_in(call: CallNow, mode: Mode, secrets: frozenset[str]) -> ListenOn | Refused:
    """Where and how the supervisor listens, or why not. With an agent on the call,
    ChanSpy listens to the agent's leg, so a whisper reaches the agent only. A caller
    without an agent (in the menus or in line) may be listened to, never talked to."""
    if not call.live or call.queue_state in ("ended", "gone"):
        return Refused("over", "this call is over")
    if call.queue_state == "connected" and call.agent_leg:
        return ListenOn(call.agent_leg, SPY_OPTIONS[mode], call.agent_id)
    in_menus = call.queue_state not in ("waiting", "offered")
    if in_menus and (call.typing_secret or call.node in secrets):
        return Refused("secret", "the caller is typing a card number or a PIN: nobody "
                                 "may listen in (PCI)")
    if mode is not Mode.LISTEN:
        return Refused("no_agent", "no agent is on this call yet: you may only listen")
    return ListenOn(call.caller_channel, SPY_OPTIONS[mode])

"""Simulated callers: Local channels whose far half behaves like a phone.

The originated half runs the sandbox's `sim-caller` context: it sends audio frames (as a
real phone's RTP would), presses keys with SendDTMF after a delay, then stays on the
line. The near half dials the hotline number and is what the engine serves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import quote

from pbx.ports import Originator


@dataclass(frozen=True, slots=True)
class SimulatedCaller:
    caller_number: str = "13800000001"
    caller_name: str = "Demo Caller"
    dialled_number: str = "10000"
    keys: str = ""
    delay: float = 1.0  # seconds after answer before the keys
    stay: float = 20.0  # seconds on the line after the keys, unless hung up on
    call_id: str = field(default_factory=lambda: f"sim-{uuid.uuid4().hex[:12]}")
    voice: str = ""  # the tones the caller "speaks" (Playtones), silence when empty
    # The file (in the recordings folder, without .wav) that keeps what the caller hears.
    heard: str = ""


async def place_call(pbx: Originator, caller: SimulatedCaller, *,
                     hostile_name: bool = False) -> str:
    """Start the call; returns the engine-side call id (the hotline channel's unique id).

    With `hostile_name`, the caller name is delivered raw (CR/LF and all) through the
    `sim-hostile` context, as a trunk could deliver it; otherwise it goes in CallerID.
    """
    variables = {"SIM_KEYS": caller.keys, "SIM_DELAY": f"{caller.delay:g}",
                 "SIM_STAY": f"{caller.stay:g}", "SIM_VOICE": caller.voice,
                 "SIM_HEARD": caller.heard}
    if hostile_name:
        channel = f"Local/{caller.dialled_number}@sim-hostile"
        variables["SIM_NAME"] = quote(caller.caller_name, safe="")
        caller_id = f"<{caller.caller_number}>"
    else:
        channel = f"Local/{caller.dialled_number}@hotline-in"
        caller_id = f'"{caller.caller_name}" <{caller.caller_number}>'
    await pbx.originate(channel, context="sim-caller", exten="keys", caller_id=caller_id,
                        variables=variables, channel_id=f"phone-{caller.call_id}",
                        other_channel_id=caller.call_id)
    return caller.call_id

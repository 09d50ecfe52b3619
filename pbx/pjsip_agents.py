"""One PJSIP endpoint per agent of the routing YAML, for Asterisk to include.

Each agent's softphone registers as the endpoint named in the YAML (`PJSIP/agent-1001`
registers as `agent-1001`) with a password derived from the engine's secret key, so no
password is ever written into the YAML. Phones dial feature codes into
`hotline-agents`; a qualify every few seconds turns a vanished phone into an
`UNAVAILABLE` device state quickly.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

AGENT_CONTEXT = "hotline-agents"
QUALIFY_EVERY = 10  # seconds


def sip_name(endpoint: str) -> str | None:
    """`PJSIP/agent-1001` -> `agent-1001`; None for anything that is not a PJSIP phone."""
    tech, _, name = endpoint.partition("/")
    return name if tech.upper() == "PJSIP" and name and "@" not in name else None


def phone_password(secret_key: bytes, name: str) -> str:
    return hmac.new(secret_key, f"agent-phone:{name}".encode(), hashlib.sha256).hexdigest()[:20]


def render(endpoints: Iterable[str], secret_key: bytes) -> str:
    lines = ["; Written by the hotline engine from the routing YAML's agents. Do not edit:",
             "; the next config version replaces it.", ""]
    for name in sorted({n for e in endpoints if (n := sip_name(e)) is not None}):
        lines += [
            f"[{name}]", "type = endpoint", "transport = transport-udp",
            f"context = {AGENT_CONTEXT}", "disallow = all", "allow = ulaw,alaw",
            "dtmf_mode = rfc4733", "direct_media = no", f"auth = {name}", f"aors = {name}",
            "",
            f"[{name}]", "type = auth", "auth_type = userpass", f"username = {name}",
            f"password = {phone_password(secret_key, name)}", "",
            f"[{name}]", "type = aor", "max_contacts = 1", "remove_existing = yes",
            f"qualify_frequency = {QUALIFY_EVERY}", "",
        ]
    return "\n".join(lines)

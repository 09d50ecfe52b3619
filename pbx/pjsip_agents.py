"""One PJSIP endpoint per agent of the routing YAML, for Asterisk to include.

Each agent's softphone registers as the endpoint named in the YAML (`PJSIP/agent-1001`
registers as `agent-1001`) with a password derived from the engine's secret key, so no
password is ever written into the YAML. Phones dial feature codes into
`hotline-agents`; a qualify every few seconds turns a vanished phone into an
`UNAVAILABLE` device state quickly.

The phone settings (`config.phones`) choose each endpoint's transport, media encryption
and codecs, and for a phone behind a home router the three settings that keep its audio
flowing both ways: media sent back where it comes from (`rtp_symmetric`), replies to the
port the request came from (`force_rport`), and the phone's contact taken from where its
REGISTER came from (`rewrite_contact`). The TCP and TLS transports the phones use are
written here too, from the same section, under names of the hotline's own so that they
never clash with an operator's pjsip.conf.

A phone on TCP or TLS always has its contact rewritten: phones do not accept incoming
TLS connections (they hold no server certificate), so Asterisk must send each call down
the connection the phone registered on, which is where the rewritten contact points.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from config.phones import Phone, Phones, PhoneSettings, phone_of

AGENT_CONTEXT = "hotline-agents"
QUALIFY_EVERY = 10  # seconds
# UDP is the transport the PBX's own pjsip.conf opens for its trunks (the sandbox's
# `transport-udp`); TCP and TLS are written here.
TRANSPORTS = {"udp": "transport-udp", "tcp": "hotline-tcp", "tls": "hotline-tls"}
ENCRYPTION = {
    "none": ["media_encryption = no"],
    "sdes": ["media_encryption = sdes", "media_encryption_optimistic = no"],
    "dtls": ["media_encryption = dtls", "media_encryption_optimistic = no",
             "dtls_auto_generate_cert = yes", "dtls_verify = fingerprint",
             "dtls_setup = actpass"],
}
BEHIND_NAT = ["rtp_symmetric = yes", "force_rport = yes"]
REWRITE_CONTACT = "rewrite_contact = yes"


def sip_name(endpoint: str) -> str | None:
    """`PJSIP/agent-1001` -> `agent-1001`; None for anything that is not a PJSIP phone."""
    tech, _, name = endpoint.partition("/")
    return name if tech.upper() == "PJSIP" and name and "@" not in name else None


def phone_password(secret_key: bytes, name: str) -> str:
    return hmac.new(secret_key, f"agent-phone:{name}".encode(), hashlib.sha256).hexdigest()[:20]


def default_phones(endpoints: Iterable[str]) -> list[tuple[str, Phone]]:
    """Endpoints with the hotline's default phone settings."""
    phone = phone_of(Phones(), PhoneSettings())
    return [(endpoint, phone) for endpoint in endpoints]


def endpoint_lines(name: str, phone: Phone) -> list[str]:
    behind_nat = phone.network == "behind_nat"
    rewrite = behind_nat or phone.transport != "udp"
    return [f"[{name}]", "type = endpoint", f"transport = {TRANSPORTS[phone.transport]}",
            f"context = {AGENT_CONTEXT}", "disallow = all", f"allow = {','.join(phone.codecs)}",
            "dtmf_mode = rfc4733", "direct_media = no", *ENCRYPTION[phone.encryption],
            *(BEHIND_NAT if behind_nat else []), *([REWRITE_CONTACT] if rewrite else []),
            f"auth = {name}", f"aors = {name}", ""]


def nat_lines(phones: Phones) -> list[str]:
    """A transport's public face when Asterisk itself is behind NAT."""
    if phones.external_address is None:
        return []
    return [f"external_signaling_address = {phones.external_address}",
            f"external_media_address = {phones.external_address}",
            *(f"local_net = {net}" for net in phones.local_nets)]


def transport_lines(phones: Phones, used: set[str]) -> list[str]:
    """The TCP and TLS transports the agents' phones use (UDP is the hotline's own)."""
    lines = []
    if "tcp" in used and phones.tcp_listen:
        lines += [f"[{TRANSPORTS['tcp']}]", "type = transport", "protocol = tcp",
                  f"bind = {phones.tcp_listen}", *nat_lines(phones), ""]
    if "tls" in used and phones.tls is not None:
        tls = phones.tls
        lines += [f"[{TRANSPORTS['tls']}]", "type = transport", "protocol = tls",
                  f"bind = {tls.address}:{tls.port}", f"cert_file = {tls.certificate}",
                  f"priv_key_file = {tls.key}", "method = tlsv1_2", *nat_lines(phones), ""]
    return lines


def render(agents: Iterable[tuple[str, Phone]], secret_key: bytes,
           phones: Phones | None = None) -> str:
    """The file for `agents` (endpoint, phone settings): one endpoint, auth and aor per
    PJSIP phone, and the transports they use."""
    lines = ["; Written by the hotline engine from the routing YAML's agents. Do not edit:",
             "; the next config version replaces it.", ""]
    named = {name: phone for endpoint, phone in agents
             if (name := sip_name(endpoint)) is not None}
    lines += transport_lines(phones or Phones(), {p.transport for p in named.values()})
    for name, phone in sorted(named.items()):
        lines += [
            *endpoint_lines(name, phone),
            f"[{name}]", "type = auth", "auth_type = userpass", f"username = {name}",
            f"password = {phone_password(secret_key, name)}", "",
            f"[{name}]", "type = aor", "max_contacts = 1", "remove_existing = yes",
            f"qualify_frequency = {QUALIFY_EVERY}", "",
        ]
    return "\n".join(lines)

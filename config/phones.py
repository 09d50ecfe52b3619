"""How agents' phones talk to the hotline: transport, media encryption, codecs, the
auto-answer signal and NAT. A hotline-wide `phones:` section gives the defaults; an
agent's `phone:` changes any of them for that agent (`phone_of`).

    phones:
      transport: tls               # udp (default), tcp or tls
      encryption: sdes             # none (default), sdes (a=crypto) or dtls
      codecs: [g722, ulaw, alaw]   # offered in this order (opus, g722, ulaw, alaw)
      auto_answer: alert-info      # none (default), alert-info or call-info
      network: lan                 # lan (default) or behind_nat (home workers)
      tls:                         # needed by any agent on tls
        certificate: /etc/asterisk/keys/hotline.crt   # as Asterisk reads them
        key: /etc/asterisk/keys/hotline.key
        ca: /etc/asterisk/keys/ca.crt                 # what phones are told to trust
        port: 5061
      tcp_listen: 0.0.0.0:5060     # needed by any agent on tcp
      external_address: 203.0.113.7  # Asterisk's public address, when Asterisk itself
      local_nets: [10.0.0.0/8]       # is behind NAT: phones outside these nets are told it
    agents:
      "1001": {..., phone: {network: behind_nat, codecs: [opus, g722]}}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from config.types import Strict

Transport = Literal["udp", "tcp", "tls"]
Encryption = Literal["none", "sdes", "dtls"]
Codec = Literal["opus", "g722", "ulaw", "alaw"]
# ("none", not "off": YAML reads a bare off as false.)
AutoAnswer = Literal["none", "alert-info", "call-info"]
Network = Literal["lan", "behind_nat"]


class Tls(Strict):
    certificate: str = Field(min_length=1)
    key: str = Field(min_length=1)
    ca: str | None = None
    address: str = "0.0.0.0"  # where Asterisk listens for TLS
    port: int = Field(default=5061, ge=1, le=65535)


class PhoneSettings(Strict):
    """An agent's own phone settings: each one unset follows `phones:`."""

    transport: Transport | None = None
    encryption: Encryption | None = None
    codecs: list[Codec] | None = Field(default=None, min_length=1)
    auto_answer: AutoAnswer | None = None
    network: Network | None = None


def _narrowband_and_hd() -> list[Codec]:
    return ["g722", "ulaw", "alaw"]


class Phones(Strict):
    transport: Transport = "udp"
    encryption: Encryption = "none"
    codecs: list[Codec] = Field(default_factory=_narrowband_and_hd, min_length=1)
    auto_answer: AutoAnswer = "none"
    network: Network = "lan"
    tls: Tls | None = None
    tcp_listen: str | None = None  # host:port of the TCP transport, needed by tcp phones
    # When Asterisk itself is behind NAT: the public address that remote phones are
    # given in its SIP and SDP (on the TCP and TLS transports the hotline writes), and
    # the networks that reach it directly and keep seeing its own address.
    external_address: str | None = Field(default=None, min_length=1)
    local_nets: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Phone:
    """One agent's phone settings, the defaults and their own together."""

    transport: Transport
    encryption: Encryption
    codecs: tuple[Codec, ...]
    auto_answer: AutoAnswer
    network: Network


def phone_of(defaults: Phones, own: PhoneSettings) -> Phone:
    return Phone(own.transport or defaults.transport, own.encryption or defaults.encryption,
                 tuple(own.codecs or defaults.codecs), own.auto_answer or defaults.auto_answer,
                 own.network or defaults.network)

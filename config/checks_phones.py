"""Checks of the agents' phones: what a transport or an encryption needs, and what would
leave a phone without a call it can take."""

from __future__ import annotations

from collections.abc import Iterator

from config.checks_base import Finding
from config.model import HotlineConfig
from config.yaml_source import Loc


def phones(c: HotlineConfig) -> Iterator[Finding]:
    yield from agents_phones(c)
    if c.phones.external_address is not None:
        udp = sorted(agent_id for agent_id, agent in c.agents.items()
                     if agent.endpoint.upper().startswith("PJSIP/")
                     and c.phone(agent_id).transport == "udp")
        if udp:
            yield Finding(("phones", "external_address"), "phones.external_address is given "
                          "to the tcp and tls transports the hotline writes; agents "
                          f"{', '.join(udp)} are on udp, whose transport is pjsip.conf's: "
                          "set external_signaling_address and external_media_address there",
                          "warning")


def agents_phones(c: HotlineConfig) -> Iterator[Finding]:
    for agent_id, agent in c.agents.items():
        if not agent.endpoint.upper().startswith("PJSIP/"):
            continue  # a phone the hotline does not provision
        phone = c.phone(agent_id)
        own = agent.phone
        where: Loc = ("agents", agent_id, "phone")
        if phone.transport == "tls" and c.phones.tls is None:
            at: Loc = (*where, "transport") if own.transport else ("phones", "transport")
            yield Finding(at, f"agent {agent_id}'s phone is on tls, but no certificate is "
                          "configured: add phones.tls (certificate, key)")
        if phone.transport == "tcp" and c.phones.tcp_listen is None:
            at = (*where, "transport") if own.transport else ("phones", "transport")
            yield Finding(at, f"agent {agent_id}'s phone is on tcp, but no TCP transport is "
                          "configured: add phones.tcp_listen (host:port)")
        if phone.encryption == "sdes" and phone.transport != "tls":
            at = (*where, "encryption") if own.encryption else ("phones", "encryption")
            yield Finding(at, f"agent {agent_id}'s phone uses sdes over {phone.transport}: "
                          "its media keys would travel in clear in the SIP; use tls, or dtls",
                          "warning")

"""`hotline agents phone ID`: what an agent's softphone needs to register and take calls,
from the routing YAML's phone settings and the engine's secret key; `hotline agents
list`: every agent's phone as Asterisk sees it now."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.model import HotlineConfig
from config.phones import Phone
from hotline.settings import MissingSecretKey, Settings
from pbx.pjsip_agents import phone_password, sip_name

ENCRYPTION = {"none": "none (plain RTP)", "sdes": "SRTP, keys in the SDP (a=crypto, SDES)",
              "dtls": "SRTP, keys by DTLS (fingerprints in the SDP)"}
AUTO_ANSWER = {"none": "none: the agent answers on the phone",
               "alert-info": "asked by the hotline (Alert-Info: info=alert-autoanswer); leave "
                             "the phone's own auto-answer off",
               "call-info": "asked by the hotline (Call-Info: answer-after=0); leave the "
                            "phone's own auto-answer off"}
NETWORK = {"lan": "on the hotline's network",
           "behind_nat": "behind a home router: the hotline answers where the phone's "
                         "packets come from; keep the phone's STUN/ICE off"}


def add_agents_parser(sub: Any) -> None:
    agents = sub.add_parser("agents", help="the agents' phones")
    what = agents.add_subparsers(dest="agents_command", required=True)
    phone = what.add_parser("phone", help="what an agent's softphone needs: server, user, "
                            "password, transport, CA, encryption, codecs")
    phone.add_argument("agent", help="the agent's id in the routing YAML")
    phone.add_argument("--config", type=Path, help="the routing YAML (default: "
                       "HOTLINE_CONFIG)")
    phone.add_argument("--server", help="the address phones reach Asterisk at, host or "
                       "host:port (default: the AMI host, port 5060, or the TLS port)")
    phone.add_argument("--qr", action="store_true", help="also print the account as a QR "
                       "code (a sip: URI with the password) for a phone that scans one")
    add_list_parser(what)


def agents_command(args: argparse.Namespace, settings: Settings) -> int:
    from config.loader import ConfigError, load

    path = args.config or settings.config_path
    try:
        config = load(path)
    except ConfigError as exc:
        print(exc)
        return 1
    if args.agents_command == "list":
        return asyncio.run(agents_listing(config, settings))
    if args.agent not in config.agents:
        print(f"{path}: no agent {args.agent}")
        return 1
    name = sip_name(config.agents[args.agent].endpoint)
    if name is None:
        print(f"agent {args.agent}'s phone is {config.agents[args.agent].endpoint}: not a "
              "PJSIP phone the hotline provisions")
        return 1
    try:
        secret = settings.secret_for("phones")
    except MissingSecretKey as exc:
        print(exc)
        return 2
    password = phone_password(secret, name)
    server = phone_server(config, args.agent, args.server or settings.ami.host)
    print(phone_sheet(config, args.agent, name, password, server))
    if args.qr:
        print(qr_code(account_uri(name, password, server, config.phone(args.agent).transport)))
    return 0


def account_uri(name: str, password: str, server: str, transport: str) -> str:
    """The account as one SIP URI, which scanning phones take as their account."""
    return f"sip:{name}:{password}@{server};transport={transport}"


def qr_code(text: str) -> str:
    """`text` as a QR code drawn in the terminal's characters (two rows a line)."""
    import io

    import segno

    out = io.StringIO()
    segno.make(text, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def phone_server(config: HotlineConfig, agent_id: str, server: str) -> str:
    """host:port where the agent's phone reaches Asterisk: the port the operator gave,
    else the one of the phone's transport."""
    phone: Phone = config.phone(agent_id)
    host, _, port = server.partition(":")
    if port:
        pass  # the operator said where
    elif phone.transport == "tls" and config.phones.tls is not None:
        port = str(config.phones.tls.port)
    elif phone.transport == "tcp" and config.phones.tcp_listen:
        port = config.phones.tcp_listen.rpartition(":")[2]
    else:
        port = "5060"
    return f"{host}:{port}"


def phone_sheet(config: HotlineConfig, agent_id: str, name: str, password: str,
                server: str) -> str:
    """`server`: host:port, from `phone_server`."""
    phone: Phone = config.phone(agent_id)
    host = server.partition(":")[0]
    rows = [("server", server), ("transport", phone.transport),
            ("user", name), ("password", password), ("domain", host)]
    if phone.transport == "tls" and config.phones.tls is not None:
        rows.append(("trust CA", config.phones.tls.ca or "(the certificate's own issuer)"))
    rows += [("encryption", ENCRYPTION[phone.encryption]),
             ("codecs", ", ".join(phone.codecs) + " (in this order)"),
             ("auto-answer", AUTO_ANSWER[phone.auto_answer]),
             ("network", NETWORK[phone.network]),
             ("feature codes", "*1 log in, *2 log out, *3 ready, *4N not ready for reason N, "
                               "*5 end wrap-up")]
    agent = config.agents[agent_id]
    return "\n".join([f"agent {agent_id} ({agent.name}): the softphone's settings",
                      *(f"  {label:<14}{value}" for label, value in rows)])


def add_list_parser(what: Any) -> None:
    listing = what.add_parser("list", help="every agent's phone: registered or not, the "
                              "round trip of its last qualify, transport, encryption, NAT, "
                              "codecs, and what the last answered call ran on")
    listing.add_argument("--config", type=Path, help="the routing YAML (default: "
                         "HOTLINE_CONFIG)")


@dataclass(frozen=True, slots=True)
class PhoneStatus:
    """What Asterisk says of an agent's endpoint (PJSIPShowEndpoint's events)."""

    registered: str  # yes; unreachable (registered, not answering its qualify); no
    roundtrip_ms: float | None  # the last qualify's


def phone_status(events: Iterable[Mapping[str, str]]) -> PhoneStatus:
    contacts = [e for e in events if e.get("Event") == "ContactStatusDetail"]
    reachable = [c for c in contacts if c.get("Status") in ("Reachable", "NonQualified")]
    usec = next((c.get("RoundtripUsec") for c in reachable
                 if c.get("RoundtripUsec", "N/A").isdigit()), None)
    registered = "yes" if reachable else "unreachable" if contacts else "no"
    return PhoneStatus(registered, int(usec) / 1000 if usec else None)


# The AstDB family the dialplan (`hotline-phone-media`) writes each agent's last answered
# call into: codec|media encrypted (1/0)|signalling on TLS (1/0)|epoch seconds.
MEDIA_FAMILY = "hotline_phone_media"


def last_call(value: str | None) -> str:
    """What the agent's last answered call ran on, e.g. `g722 srtp tls`; `-` for none."""
    if not value:
        return "-"
    codec, _, rest = value.partition("|")
    secure_media, _, rest = rest.partition("|")
    secure_signalling = rest.partition("|")[0]
    return " ".join([codec.strip("()") or "?", "srtp" if secure_media == "1" else "rtp",
                     "tls" if secure_signalling == "1" else "clear"])


def list_table(config: HotlineConfig, statuses: Mapping[str, PhoneStatus | None],
               last_calls: Mapping[str, str] | None = None) -> str:
    """One row per agent. The settings columns are the YAML's; `last call` is what the
    last answered call really ran on, as Asterisk negotiated it."""
    last_calls = last_calls or {}
    lines = [f"{'agent':<8}{'name':<14}{'phone':<24}{'registered':<12}{'RTT':>9}  "
             f"{'transport':<10}{'encryption':<11}{'network':<11}{'codecs':<16}last call"]
    for agent_id, agent in config.agents.items():
        phone, status = config.phone(agent_id), statuses.get(agent_id)
        if sip_name(agent.endpoint) is None:
            registered, rtt = "-", "-"
        elif status is None:
            registered, rtt = "unknown", "-"  # Asterisk has no such endpoint
        else:
            registered = status.registered
            rtt = f"{status.roundtrip_ms:.1f} ms" if status.roundtrip_ms is not None else "-"
        lines.append(f"{agent_id:<8}{agent.name[:13]:<14}{agent.endpoint[:23]:<24}"
                     f"{registered:<12}{rtt:>9}  {phone.transport:<10}{phone.encryption:<11}"
                     f"{phone.network:<11}{','.join(phone.codecs):<16}"
                     f"{last_call(last_calls.get(agent_id))}")
    return "\n".join(lines)


async def agents_listing(config: HotlineConfig, settings: Settings) -> int:
    from pbx.ami import AmiConnection, AmiError

    ami = AmiConnection(settings.ami, lambda _event: None)
    ami.start()
    try:
        await ami.wait_up(10)
        statuses: dict[str, PhoneStatus | None] = {}
        last_calls: dict[str, str] = {}
        for agent_id, agent in config.agents.items():
            name = sip_name(agent.endpoint)
            if name is None:
                continue
            answer = await ami.send_action({"Action": "PJSIPShowEndpoint", "Endpoint": name},
                                           check=False)
            statuses[agent_id] = phone_status(answer.events) if answer.ok else None
            media = await ami.send_action({"Action": "DBGet", "Family": MEDIA_FAMILY,
                                           "Key": agent_id}, check=False)
            found = [e.get("Val", "") for e in media.events
                     if e.get("Event") == "DBGetResponse"] if media.ok else []
            if found:
                last_calls[agent_id] = found[0]
    except AmiError as exc:
        print(f"Asterisk's AMI does not answer ({exc}): `hotline doctor` says why")
        return 1
    finally:
        await ami.close()
    print(list_table(config, statuses, last_calls))
    return 0

"""`hotline agents phone ID`: what an agent's softphone needs to register and take calls,
from the routing YAML's phone settings and the engine's secret key."""

from __future__ import annotations

import argparse
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


def agents_command(args: argparse.Namespace, settings: Settings) -> int:
    from config.loader import ConfigError, load

    path = args.config or settings.config_path
    try:
        config = load(path)
    except ConfigError as exc:
        print(exc)
        return 1
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
    print(phone_sheet(config, args.agent, name, phone_password(secret, name),
                      args.server or settings.ami.host))
    return 0


def phone_sheet(config: HotlineConfig, agent_id: str, name: str, password: str,
                server: str) -> str:
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
    rows = [("server", f"{host}:{port}"), ("transport", phone.transport),
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

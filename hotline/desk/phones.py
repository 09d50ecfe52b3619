"""Agents' phones follow the live config: their PJSIP endpoints are written for Asterisk
to include and reloaded whenever a version changes them, and each agent's dial string is
an Asterisk global (`HOTLINE_PHONE_<agent id>`), and so is the Dial option that adds the
auto-answer header its phone is asked for (`HOTLINE_ANSWER_<agent id>`), so connecting
a caller is one `Redirect` to `hotline-connect,<ring seconds>-<agent id>` with nothing
set before it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from config.model import HotlineConfig
from pbx.ami import AmiConnection, AmiError
from pbx.pjsip_agents import render, sip_name

log = logging.getLogger(__name__)


class AgentPhones:
    def __init__(self, ami: AmiConnection, path: Path | None, secret_key: bytes) -> None:
        self.ami = ami
        self.path = path  # None: the operator manages the phones' endpoints
        self.secret_key = secret_key
        self.unloaded = False  # written, but Asterisk has not reloaded it yet
        # True once this AMI session set every agent's dial string (a restarted Asterisk
        # has none): until then callers are connected the slower way.
        self.dial_strings_ready = False

    def write(self, config: HotlineConfig) -> None:
        if self.path is None:
            return
        text = render(((a.endpoint, config.phone(agent_id))
                       for agent_id, a in config.agents.items()), self.secret_key,
                      config.phones)
        if self.path.exists() and self.path.read_text() == text:
            return
        partial = self.path.with_suffix(".partial")
        partial.write_text(text)
        partial.replace(self.path)  # Asterisk never reads half a file
        self.unloaded = True

    async def reload(self) -> None:
        if not self.unloaded:
            return
        try:
            await self.ami.send_action({"Action": "Reload", "Module": "res_pjsip.so"})
            self.unloaded = False
            log.info("agents' phones: %s reloaded", self.path)
        except AmiError as exc:
            log.warning("agents' phones written to %s, but PJSIP did not reload: %s",
                        self.path, exc)

    async def publish_dial_strings(self, config: HotlineConfig) -> None:
        actions = [self.ami.send_action({"Action": "Setvar", "Variable": variable,
                                         "Value": value})
                   for agent_id, agent in config.agents.items()
                   for variable, value in ((dial_variable(agent_id), agent.endpoint),
                                           (answer_variable(agent_id),
                                            auto_answer_option(config, agent_id)))]
        try:
            await asyncio.gather(*actions)
        except AmiError as exc:
            self.dial_strings_ready = False
            log.warning("agents' dial strings not set in Asterisk (%s); connecting the "
                        "slower way until the next login", exc)
            return
        self.dial_strings_ready = True

    def connection_lost(self) -> None:
        self.dial_strings_ready = False


def dial_variable(agent_id: str) -> str:
    return f"HOTLINE_PHONE_{agent_id}"


def answer_variable(agent_id: str) -> str:
    """The global holding the Dial option that asks the agent's phone to answer by
    itself (put into `hotline-connect`'s Dial as it is)."""
    return f"HOTLINE_ANSWER_{agent_id}"


def auto_answer_option(config: HotlineConfig, agent_id: str) -> str:
    """Dial's option that adds the agent's auto-answer header (the pre-dial handler
    `hotline-auto-answer`), or nothing: only a PJSIP phone takes a SIP header, and a
    pre-dial handler delays every ring by about 1.5 ms of Asterisk's time, even one
    that adds no header."""
    if sip_name(config.agents[agent_id].endpoint) is None:
        return ""
    header = config.phone(agent_id).auto_answer
    return "" if header == "none" else f"b(hotline-auto-answer^s^1({header}))"

"""Agents' PJSIP endpoints follow the live config: written for Asterisk to include, and
reloaded, whenever a version changes them."""

from __future__ import annotations

import logging
from pathlib import Path

from config.model import HotlineConfig
from pbx.ami import AmiConnection, AmiError
from pbx.pjsip_agents import render

log = logging.getLogger(__name__)


class AgentPhones:
    def __init__(self, ami: AmiConnection, path: Path | None, secret_key: bytes) -> None:
        self.ami = ami
        self.path = path  # None: the operator manages the phones' endpoints
        self.secret_key = secret_key
        self.unloaded = False  # written, but Asterisk has not reloaded it yet

    def write(self, config: HotlineConfig) -> None:
        if self.path is None:
            return
        text = render((a.endpoint for a in config.agents.values()), self.secret_key)
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

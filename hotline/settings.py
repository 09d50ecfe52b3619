"""Settings of one engine process: where Asterisk and Redis are, and who this engine is.

Secrets (the AMI secret, a Redis password in the URL) come from here, from the
environment, never from the routing YAML that supervisors edit.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pbx.ami import AmiSettings

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "hotline.yaml"

MAKE_A_SECRET_KEY = ("export HOTLINE_SECRET_KEY=$(python3 -c "
                     "'import secrets; print(secrets.token_hex(32))')")


class MissingSecretKey(RuntimeError):
    def __init__(self) -> None:
        super().__init__(
            "HOTLINE_SECRET_KEY is not set. It keys the hashes that stand in for voucher "
            "numbers and PINs, the callback sample and the agents' SIP passwords, so it "
            "must be the same on every engine and kept secret. Make one with:\n  "
            + MAKE_A_SECRET_KEY)


@dataclass(frozen=True, slots=True)
class Settings:
    ami: AmiSettings = field(default_factory=AmiSettings)
    redis_url: str = field(default="redis://127.0.0.1:6379/0", repr=False)
    key_prefix: str = "hotline:"
    instance_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    config_path: Path = DEFAULT_CONFIG
    # Rendered prompts: where the engine writes them, and the same folder as Asterisk
    # sees it (often another host, or a chroot, sharing the storage).
    prompts_dir: Path = Path("/var/lib/asterisk/sounds/hotline")
    prompts_dir_asterisk: str = "/var/lib/asterisk/sounds/hotline"
    # Whole-call recordings: where Asterisk writes them, and where the engine reads them.
    recordings_dir: Path = Path("/var/spool/asterisk/monitor/hotline")
    recordings_dir_asterisk: str = "/var/spool/asterisk/monitor/hotline"
    # The one secret of the hotline (see `secret_for`); no engine serves without it.
    secret_key: bytes = field(default=b"", repr=False)
    # Where a caller goes when the engine cannot serve the call (see extensions.conf).
    fallback_context: str = "hotline-fallback"
    fallback_exten: str = "s"
    # How long call records stay in Redis.
    call_record_ttl: int = 7 * 24 * 3600
    # On SIGTERM, calls in a menu get this long to finish before they go to a person.
    shutdown_grace: float = 10.0
    # How often the config file and the active version in Redis are looked at.
    config_poll: float = 2.0
    # Where the engine writes the agents' PJSIP endpoints for Asterisk to `#include`
    # (None: the operator provisions the phones).
    pjsip_agents_file: Path | None = None
    # The Asterisk-format queue_log this engine writes (None: none).
    queue_log: Path | None = None
    # Who activates config versions from this process (recorded with each version).
    author: str = field(default_factory=lambda: os.environ.get("USER", "engine"))

    def secret_for(self, use: str) -> bytes:
        """The key for one use of the secret key: "billing" (the hashes standing in
        for voucher numbers and PINs), "sampling" (which calls get a survey) or "phones"
        (the agents' SIP passwords). Billing takes the key as it is, so that vouchers
        hashed before the uses were told apart are still found."""
        if not self.secret_key:
            raise MissingSecretKey()
        return self.secret_key if use == "billing" else self.secret_key + b":" + use.encode()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        ami = AmiSettings(
            host=env.get("HOTLINE_AMI_HOST", "127.0.0.1"),
            port=int(env.get("HOTLINE_AMI_PORT", "5038")),
            username=env.get("HOTLINE_AMI_USER", "hotline"),
            secret=env.get("HOTLINE_AMI_SECRET", ""),
        )
        settings = cls(
            ami=ami,
            redis_url=env.get("HOTLINE_REDIS_URL", "redis://127.0.0.1:6379/0"),
            key_prefix=env.get("HOTLINE_KEY_PREFIX", "hotline:"),
            config_path=Path(env.get("HOTLINE_CONFIG", str(DEFAULT_CONFIG))),
        )
        if "HOTLINE_PROMPTS_DIR" in env:
            prompts = env["HOTLINE_PROMPTS_DIR"]
            settings = replace(settings, prompts_dir=Path(prompts), prompts_dir_asterisk=env.get(
                "HOTLINE_PROMPTS_DIR_ASTERISK", prompts))
        if "HOTLINE_RECORDINGS_DIR" in env:
            recordings = env["HOTLINE_RECORDINGS_DIR"]
            settings = replace(settings, recordings_dir=Path(recordings),
                               recordings_dir_asterisk=env.get(
                                   "HOTLINE_RECORDINGS_DIR_ASTERISK", recordings))
        if "HOTLINE_SECRET_KEY" in env:
            settings = replace(settings, secret_key=env["HOTLINE_SECRET_KEY"].encode())
        if "HOTLINE_CONFIG_POLL" in env:
            settings = replace(settings, config_poll=float(env["HOTLINE_CONFIG_POLL"]))
        if "HOTLINE_AUTHOR" in env:
            settings = replace(settings, author=env["HOTLINE_AUTHOR"])
        if "HOTLINE_PJSIP_AGENTS_FILE" in env:
            settings = replace(settings, pjsip_agents_file=Path(env["HOTLINE_PJSIP_AGENTS_FILE"]))
        if "HOTLINE_QUEUE_LOG" in env:
            settings = replace(settings, queue_log=Path(env["HOTLINE_QUEUE_LOG"]))
        if "HOTLINE_INSTANCE_ID" in env:
            settings = replace(settings, instance_id=env["HOTLINE_INSTANCE_ID"])
        return replace(settings, **overrides)

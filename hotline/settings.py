"""Settings of one engine process: where Asterisk and Redis are, and who this engine is.

Secrets (the AMI secret, a Redis password in the URL) come from here, from the
environment, never from the routing YAML that supervisors edit.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from operator import attrgetter
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
    # Short commands on one shared pipelined connection (`hotline.runtime.redis_lane`);
    # off: every command through redis-py's pool, as before the lane.
    redis_lane: bool = True
    key_prefix: str = "hotline:"
    # What this engine's ids in Redis start with; each lease adds a part of its own.
    instance_id: str = field(default_factory=socket.gethostname)
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
    # Where this engine answers /healthz, /readyz and /metrics (host:port; None: nowhere).
    http_listen: str | None = None
    # Who activates config versions from this process (recorded with each version).
    author: str = field(default_factory=lambda: os.environ.get("USER", "engine"))

    def secret_for(self, use: str) -> bytes:
        """The key for one use of the secret key: "billing" (the hashes standing in
        for voucher numbers and PINs), "sampling" (which calls get a survey), "review"
        (which calls are reviewed each month) or "phones" (the agents' SIP passwords).
        Billing takes the key as it is, so that vouchers hashed before the uses were told
        apart are still found."""
        if not self.secret_key:
            raise MissingSecretKey()
        return self.secret_key if use == "billing" else self.secret_key + b":" + use.encode()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings from the environment. Every variable read here is documented in
        `ENVIRONMENT` below, which the README's table is generated from (a test fails
        when one is missing there, or when the README's table is stale)."""
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
        if "HOTLINE_REDIS_LANE" in env:
            settings = replace(settings, redis_lane=_switch(env["HOTLINE_REDIS_LANE"],
                                                            "HOTLINE_REDIS_LANE"))
        if "HOTLINE_CONFIG_POLL" in env:
            settings = replace(settings, config_poll=float(env["HOTLINE_CONFIG_POLL"]))
        if "HOTLINE_AUTHOR" in env:
            settings = replace(settings, author=env["HOTLINE_AUTHOR"])
        if "HOTLINE_PJSIP_AGENTS_FILE" in env:
            settings = replace(settings, pjsip_agents_file=Path(env["HOTLINE_PJSIP_AGENTS_FILE"]))
        if "HOTLINE_QUEUE_LOG" in env:
            settings = replace(settings, queue_log=Path(env["HOTLINE_QUEUE_LOG"]))
        if "HOTLINE_HTTP_LISTEN" in env:
            settings = replace(settings, http_listen=env["HOTLINE_HTTP_LISTEN"] or None)
        if "HOTLINE_INSTANCE_ID" in env:
            settings = replace(settings, instance_id=env["HOTLINE_INSTANCE_ID"])
        return replace(settings, **overrides)


# --- the settings an operator sets: the README's table is generated from this ----------

def _switch(value: str, name: str) -> bool:
    word = value.strip().lower()
    if word in ("on", "1", "yes", "true"):
        return True
    if word in ("off", "0", "no", "false"):
        return False
    raise ValueError(f"{name} is {value!r}: say on or off")


@dataclass(frozen=True, slots=True)
class EnvSetting:
    """One environment variable. `attribute` is where `Settings.from_env` puts it, and
    the default shown is read from there, so the table cannot drift from the code;
    `default` is the words for a default that depends on the machine or on another
    variable ("{}" in it stands for the default read from `attribute`)."""

    variable: str
    attribute: str | None
    meaning: str
    default: str | None = None


ENVIRONMENT: tuple[EnvSetting, ...] = (
    EnvSetting("HOTLINE_AMI_HOST", "ami.host",
               "Where Asterisk's AMI listens (`bindaddr` in manager.conf)."),
    EnvSetting("HOTLINE_AMI_PORT", "ami.port", "The AMI port (`port` in manager.conf)."),
    EnvSetting("HOTLINE_AMI_USER", "ami.username",
               "The AMI user: a `[section]` of manager.conf with the classes listed under "
               "\"Pointing the engine at an existing Asterisk\"."),
    EnvSetting("HOTLINE_AMI_SECRET", "ami.secret", "That user's `secret`."),
    EnvSetting("HOTLINE_REDIS_URL", "redis_url",
               "The Redis that holds all state, `redis://[:PASSWORD@]HOST:PORT/DB`, or its "
               "Sentinels: `redis+sentinel://[:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER/DB` "
               "(MASTER: the name in `sentinel monitor`; PASSWORD: the master's; add "
               "`?sentinel_password=...` when the Sentinels have a `requirepass` of their "
               "own). Run it with `appendonly yes`, or a crash loses balances, top-ups and "
               "survey jobs."),
    EnvSetting("HOTLINE_REDIS_LANE", "redis_lane",
               "`on`: the engine's short Redis commands share one pipelined connection, "
               "at about half of redis-py's CPU per command; `off`: every command takes "
               "a connection of redis-py's pool (blocking commands and pipelines always "
               "do).", default="`on`"),
    EnvSetting("HOTLINE_KEY_PREFIX", "key_prefix",
               "The start of every Redis key, so that several hotlines share one Redis."),
    EnvSetting("HOTLINE_CONFIG", "config_path",
               "The routing YAML that `hotline serve` makes live at start and on SIGHUP, "
               "and watches for changes.", default="`config/hotline.yaml` (the example)"),
    EnvSetting("HOTLINE_PROMPTS_DIR", "prompts_dir",
               "Where `hotline prompts build` writes the prompts' audio (the engine's view)."),
    EnvSetting("HOTLINE_PROMPTS_DIR_ASTERISK", "prompts_dir_asterisk",
               "The same folder as Asterisk sees it (another host, a chroot). Read only "
               "when `HOTLINE_PROMPTS_DIR` is set.",
               default="`HOTLINE_PROMPTS_DIR` when set, else {}"),
    EnvSetting("HOTLINE_RECORDINGS_DIR", "recordings_dir",
               "Where the engine finds, files and purges the recordings (its view)."),
    EnvSetting("HOTLINE_RECORDINGS_DIR_ASTERISK", "recordings_dir_asterisk",
               "The same folder as Asterisk writes to it. Read only when "
               "`HOTLINE_RECORDINGS_DIR` is set.",
               default="`HOTLINE_RECORDINGS_DIR` when set, else {}"),
    EnvSetting("HOTLINE_SECRET_KEY", "secret_key",
               "The one secret, the same on every engine. It keys the hashes of voucher "
               "numbers and PINs (the key as it is), the callback sample (the key plus "
               "`:sampling`), the monthly review's pick (the key plus `:review`) and the "
               "agents' SIP passwords (the key plus `:phones`).",
               default="none: `hotline serve` refuses to start"),
    EnvSetting("HOTLINE_CONFIG_POLL", "config_poll",
               "Seconds between two looks at the config file and at the live version in "
               "Redis."),
    EnvSetting("HOTLINE_AUTHOR", "author",
               "Who activates config versions from this process (kept with each version).",
               default="`$USER`, else `engine`"),
    EnvSetting("HOTLINE_PJSIP_AGENTS_FILE", "pjsip_agents_file",
               "Where the engine writes the agents' PJSIP endpoints: the very file "
               "pjsip.conf includes. The sandbox's pjsip.conf has `#tryinclude "
               "pjsip_agents.conf`, so there it is `/var/cache/hotline/asterisk-sid/srv/"
               "hotline/INSTANCE/etc/pjsip_agents.conf` (INSTANCE: `default` unless "
               "`--instance`).", default="none: the operator provisions the phones"),
    EnvSetting("HOTLINE_QUEUE_LOG", "queue_log",
               "An Asterisk-format `queue_log` this engine writes, for tools that read "
               "app_queue's.", default="none"),
    EnvSetting("HOTLINE_INSTANCE_ID", "instance_id",
               "What this engine's ids in Redis (leases, call claims) start with. Each "
               "start adds a random part, so a restarted engine adopts its calls like a peer.",
               default="host name"),
    EnvSetting("HOTLINE_HTTP_LISTEN", "http_listen",
               "Where the engine answers `/healthz`, `/readyz` (AMI logged in, lease held, "
               "Redis answering) and `/metrics` (its AGI round trips, AMI link, lease, Redis "
               "errors), as host:port.", default="none"),
    EnvSetting("HOTLINE_LOG_FORMAT", None,
               "`text`, or `json`: one JSON object per line (time, level, logger, message, "
               "`call_id` on lines about a call, exception) for log shippers. Read by "
               "every `hotline` command.", default="`text`"),
)


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bytes):
        value = value.decode()
    text = str(value)
    return f"`{text}`" if text else "empty"


def settings_table() -> str:
    """The README's table of settings, in Markdown: variable, default, meaning."""
    defaults = Settings.from_env({})
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for entry in ENVIRONMENT:
        default = entry.default or "{}"
        if "{}" in default:
            assert entry.attribute is not None, entry.variable
            default = default.replace("{}", _shown(attrgetter(entry.attribute)(defaults)))
        rows.append(f"| `{entry.variable}` | {default} | {entry.meaning} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--table"]:
        sys.exit("usage: python -m hotline.settings --table")
    print(settings_table(), end="")

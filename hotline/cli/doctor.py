"""`hotline doctor`: checks a deployment the way the engine will use it, one line per
check, and for each failure what to fix. Exit 1 when anything fails (a WARN does not).

It uses the engine's own settings, AMI connection and Redis client, so what it finds is
what `hotline serve` would meet. It changes nothing lasting: the test call's extension,
prompt and recording are removed again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hotline.runtime.checkup import Check
from hotline.settings import MissingSecretKey, Settings
from pbx.ami import AmiConnection, AmiError, AmiSettings
from pbx.ami_codec import AmiDecoder, encode_action

AMI_CHECKS = ("AMI classes", "dialplan", "modules", "prompts", "recordings (Asterisk)",
              "agents' phones", "clock")


def add_doctor_parser(sub: Any) -> None:
    doctor = sub.add_parser("doctor", help="check this deployment: AMI, dialplan, modules, "
                            "prompts, recordings, phones, clock, Redis, live config")
    doctor.add_argument("--manager-conf", type=Path,
                        help="the manager.conf Asterisk reads, to check the AMI user's "
                             "read classes when Asterisk will not show them "
                             "(default: /etc/asterisk/manager.conf when readable)")
    doctor.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for Asterisk or Redis (default 10)")


async def doctor_command(args: argparse.Namespace, settings: Settings) -> int:
    if not args.verbose:
        # The connection's own "session up" lines would interleave with the verdicts.
        logging.getLogger("pbx.ami").setLevel(logging.WARNING)
    manager_conf = args.manager_conf
    default_conf = Path("/etc/asterisk/manager.conf")
    if manager_conf is None and os.access(default_conf, os.R_OK):
        manager_conf = default_conf
    checks = await run_checks(settings, manager_conf=manager_conf, timeout=args.timeout,
                              report=lambda check: print(check.line(), flush=True))
    failed = sum(c.status == "FAIL" for c in checks)
    warned = sum(c.status == "WARN" for c in checks)
    if failed:
        print(f"{failed} check(s) failed: fix them from the top, the first one often "
              "explains the ones after it")
        return 1
    print(f"no check failed ({len(checks)} checks" + (f", {warned} warning(s)" if warned
                                                       else "") + ")")
    return 0


async def run_checks(settings: Settings, *, manager_conf: Path | None = None,
                     timeout: float = 10.0, contexts: list[str] | None = None,
                     report: Callable[[Check], None] | None = None) -> list[Check]:
    from hotline.cli import doctor_asterisk as asterisk

    checks: list[Check] = []

    def add(*found: Check) -> None:
        for check in found:
            checks.append(check)
            if report is not None:
                report(check)

    add(_secret_key(settings))
    ami_check, ami = await _ami(settings.ami, timeout)
    add(ami_check)
    if ami is None:
        add(*(Check(name, "skip", "needs the AMI session") for name in AMI_CHECKS))
    else:
        try:
            add(await _guarded("AMI classes", asterisk.ami_classes(ami, settings,
                                                                   manager_conf)))
            add(await _guarded("dialplan", asterisk.contexts(
                ami, contexts if contexts is not None else needed_contexts(settings))))
            add(await _guarded("modules", asterisk.modules(ami)))
            add(*await asterisk.media_call(ami, settings, timeout))
            add(await _guarded("agents' phones", asterisk.agents_phones(ami, settings)))
            add(await _guarded("clock", asterisk.clock(ami)))
        finally:
            await ami.close()
    add(_recordings_dir(settings))
    add(*await _redis(settings, timeout))
    return checks


def needed_contexts(settings: Settings) -> list[str]:
    """Every context the engine sends calls to, named where the engine names it."""
    from hotline.after_call.surveys import SURVEY_CONTEXT
    from hotline.queues.callback_in_line import CALLBACK_CONTEXT, CONNECT_CONTEXT
    from pbx.pjsip_agents import AGENT_CONTEXT

    # hotline-in is where the numbers land (extensions.conf), not named by the engine.
    return ["hotline-in", CONNECT_CONTEXT, CALLBACK_CONTEXT, settings.fallback_context,
            SURVEY_CONTEXT, AGENT_CONTEXT]


async def _guarded(name: str, work: Any) -> Check:
    """A check that broke says so in its own line; the other checks still run."""
    try:
        check: Check = await work
        return check
    except AmiError as exc:
        return Check(name, "FAIL", f"Asterisk did not answer the check: {exc}")


def _secret_key(settings: Settings) -> Check:
    try:
        settings.secret_for("billing")
    except MissingSecretKey as exc:
        return Check("secret key", "FAIL", str(exc).replace("\n  ", " "))
    return Check("secret key", "ok", "HOTLINE_SECRET_KEY is set (it must be the same on "
                 "every engine)")


async def _ami(ami: AmiSettings, timeout: float) -> tuple[Check, AmiConnection | None]:
    """First a bare login, which tells "nothing there" from "not AMI" from "refused";
    then the engine's own connection, for the checks that follow."""
    where = f"{ami.host}:{ami.port}"
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(ami.host, ami.port)
    except (OSError, TimeoutError) as exc:
        return Check("AMI", "FAIL", f"nothing answers at {where} ({_why(exc)}): start "
                     "Asterisk, or set HOTLINE_AMI_HOST and HOTLINE_AMI_PORT to manager.conf's "
                     "bindaddr and port (with enabled = yes)"), None
    try:
        decoder = AmiDecoder()
        async with asyncio.timeout(timeout):
            writer.write(encode_action({"Action": "Login", "Username": ami.username,
                                        "Secret": ami.secret, "Events": "off"}))
            messages: list[dict[str, str]] = []
            while not messages:
                data = await reader.read(4096)
                if not data:
                    break
                messages = decoder.feed(data)
                if decoder.banner is not None and "Asterisk Call Manager" not in decoder.banner:
                    break
    except (OSError, TimeoutError) as exc:
        messages = []
        if decoder.banner is None:
            return Check("AMI", "FAIL", f"{where} accepts connections but says nothing "
                         f"({_why(exc)}): is that port Asterisk's AMI?"), None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    if decoder.banner is None or "Asterisk Call Manager" not in decoder.banner:
        return Check("AMI", "FAIL", f"{where} answers, but not as Asterisk's AMI "
                     f"({(decoder.banner or 'no greeting')[:40]!r}): check HOTLINE_AMI_PORT "
                     "against manager.conf's port"), None
    if not messages or messages[0].get("Response") != "Success":
        said = messages[0].get("Message", "no answer") if messages else "no answer"
        return Check("AMI", "FAIL", f"Asterisk at {where} refused the login of "
                     f"{ami.username!r} ({said}): HOTLINE_AMI_USER and HOTLINE_AMI_SECRET must "
                     f"match a [{ami.username}] section of manager.conf, whose permit= allows "
                     "this machine"), None
    connection = AmiConnection(ami, lambda _event: None)
    connection.start()
    try:
        await connection.wait_up(timeout)
    except AmiError as exc:
        await connection.close()
        return Check("AMI", "FAIL", f"the engine's connection did not come up: {exc}"), None
    return Check("AMI", "ok", f"{where} answers ({decoder.banner}); logged in as "
                 f"{ami.username}"), connection


def _why(exc: BaseException) -> str:
    return "no answer in time" if isinstance(exc, TimeoutError) else \
        getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _recordings_dir(settings: Settings) -> Check:
    folder = settings.recordings_dir
    if not folder.is_dir():
        return Check("recordings (engine)", "FAIL", f"{folder} does not exist: create it on "
                     "the storage Asterisk records to, or fix HOTLINE_RECORDINGS_DIR")
    probe = folder / f".hotline-doctor-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return Check("recordings (engine)", "FAIL", f"the engine cannot write {folder} "
                     f"({exc.strerror or exc}); it files recordings there and deletes them "
                     "after retention: give the engine's user write access")
    return Check("recordings (engine)", "ok", f"{folder} is writable by the engine")


async def _redis(settings: Settings, timeout: float) -> list[Check]:
    from redis.exceptions import RedisError, ResponseError

    from hotline.runtime import redis_client
    from hotline.runtime.redis_client import RedisUrlError, connect

    where = redis_client.where(settings.redis_url)  # never the password a URL may hold
    try:
        redis = connect(settings.redis_url)
    except RedisUrlError as exc:
        return [Check("Redis", "FAIL", f"HOTLINE_REDIS_URL: {exc}"),
                Check("live config", "skip", "needs Redis")]
    try:
        try:
            async with asyncio.timeout(timeout):
                await redis.ping()
        except (RedisError, OSError, TimeoutError) as exc:
            return [Check("Redis", "FAIL", f"Redis at {where} does not answer "
                          f"({_why(exc)}): start it, or fix HOTLINE_REDIS_URL"),
                    Check("live config", "skip", "needs Redis")]
        try:
            config = await redis.config_get("appendonly")
            config |= await redis.config_get("appendfsync")
            aof, fsync = config.get("appendonly") == "yes", config.get("appendfsync", "")
        except ResponseError:  # CONFIG may be disabled on a managed Redis; INFO is not
            info = await redis.info("persistence")
            aof, fsync = str(info.get("aof_enabled")) == "1", ""
        if not aof:
            check = Check("Redis", "FAIL", f"Redis at {where} runs without AOF (appendonly "
                          "no): a crash loses balances, top-ups, survey jobs and agents' "
                          "states. Set appendonly yes and appendfsync everysec in redis.conf, "
                          "and `CONFIG SET appendonly yes` to start now")
        elif fsync == "no":
            check = Check("Redis", "WARN", f"Redis at {where} has AOF on but appendfsync no: "
                          "the OS decides when it reaches the disk. Set appendfsync everysec")
        else:
            check = Check("Redis", "ok", f"{where} answers; AOF on"
                          + (f" (appendfsync {fsync})" if fsync else ""))
        return [check, *await _live_config(redis, settings)]
    finally:
        await redis.aclose()


async def _live_config(redis: Any, settings: Settings) -> list[Check]:
    from config.loader import ConfigError, check, load_text
    from config.versions import ConfigVersions
    from hotline.calls.prompt_audio import missing_audio

    active = await ConfigVersions(redis, settings.key_prefix, time.time).active()
    if active is not None:
        try:
            config = load_text(active.text, active.source).config
        except ConfigError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
            return [Check("live config", "FAIL", f"live version {active.number} no longer "
                          f"loads ({first}): make a good file live with `hotline config "
                          "activate FILE`")]
        live = Check("live config", "ok", f"version {active.number} is live and loads "
                     f"({len(config.queues)} queues, {len(config.agents)} agents)")
    else:
        path = settings.config_path
        loaded, problems = check(path)
        errors = [p for p in problems if p.severity == "error"]
        if loaded is None or errors:
            first = str(errors[0]) if errors else "it cannot be read"
            return [Check("live config", "FAIL", f"no live version, and {path} has "
                          f"{len(errors) or 1} error(s), the first: {first}. Run `hotline "
                          f"config check {path}`")]
        config = loaded
        live = Check("live config", "ok", f"no live version yet; {path} is valid and goes "
                     "live when `hotline serve` starts")
    missing = missing_audio(config, settings.prompts_dir)
    if missing:
        name, language = missing[0]
        audio = Check("prompt audio", "WARN", f"{len(missing)} prompt(s) of the config have "
                      f"no audio in {settings.prompts_dir} (the first: {language}/{name}): "
                      "callers would hear silence there; run `hotline prompts build`")
    else:
        audio = Check("prompt audio", "ok", f"every prompt has audio in {settings.prompts_dir}")
    return [live, audio]

"""`hotline doctor`'s checks of Asterisk, over the engine's own AMI connection.

The AMI user the engine runs as is rightly not allowed CLI commands, so these checks use
actions its classes allow: `ShowDialPlan`, `ModuleCheck`, `PJSIPShowEndpoint`, `Ping`,
and one short test call (a Local channel in a context of its own, removed afterwards)
that plays a prompt the engine wrote and records a moment where the engine reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import wave
from pathlib import Path

from hotline.runtime.checkup import (
    MODULES,
    Check,
    classes_from_manager_conf,
    classes_from_show_user,
    endpoints_in,
    judge_classes,
    judge_clock,
)
from hotline.settings import Settings
from pbx.ami import AmiConnection, AmiError
from pbx.ami_codec import Message
from pbx.events import CALL_VARIABLE

DOCTOR_CONTEXT = "hotline-doctor"
NO_CHANNEL = "hotline-doctor-no-such-channel"
# Harmless actions, one per write class the engine needs: each fails for want of a
# channel, or answers "Permission denied" when the class is missing.
WRITE_PROBES: tuple[tuple[str, dict[str, str | int]], ...] = (
    ("agi", {"Action": "AGI", "Channel": NO_CHANNEL, "Command": "NOOP"}),
    ("call", {"Action": "Redirect", "Channel": NO_CHANNEL, "Context": DOCTOR_CONTEXT,
              "Exten": "s", "Priority": 1}),
    ("originate", {"Action": "Originate"}),
    ("reporting", {"Action": "CoreShowChannels"}),
    ("system", {"Action": "ModuleCheck", "Module": "res_agi"}),
)
RECORDING_SETTLES = 3.0  # seconds for MixMonitor to close its file after it stops
RELOAD = "then `dialplan reload` in the Asterisk CLI"


async def ami_classes(ami: AmiConnection, settings: Settings,
                      manager_conf: Path | None) -> Check:
    user = settings.ami.username
    denied = [cls for cls, action in WRITE_PROBES
              if (await ami.send_action(action, check=False)).message == "Permission denied"]
    shown = await ami.send_action({"Action": "Command",
                                   "Command": f"manager show user {user}"}, check=False)
    found = classes_from_show_user(shown.fields.get("Output", "")) if shown.ok else None
    source = "Asterisk's `manager show user`"
    if found is None and manager_conf is not None:
        try:
            found = classes_from_manager_conf(manager_conf.read_text(errors="replace"), user)
        except OSError as exc:
            return Check("AMI classes", "FAIL", f"cannot read {manager_conf} "
                         f"({exc.strerror or exc}): pass the manager.conf Asterisk reads")
        if found is None:
            return Check("AMI classes", "FAIL", f"{manager_conf} has no [{user}] section: "
                         "pass the manager.conf Asterisk reads, or fix HOTLINE_AMI_USER")
        source = str(manager_conf)
    if found is not None:
        read, write = found
        return judge_classes(user, read, write, source)
    if denied:
        return Check("AMI classes", "FAIL", f"Asterisk refused the engine's actions of "
                     f"class {','.join(denied)} (Permission denied): add them to write = "
                     f"of [{user}] in manager.conf, then `manager reload`")
    return Check("AMI classes", "WARN", "the engine's actions are allowed, but the read "
                 "classes cannot be seen from here (this user may not run CLI commands, "
                 "rightly): pass --manager-conf FILE to check that read has no dtmf")


async def contexts(ami: AmiConnection, needed: list[str]) -> Check:
    missing, empty = [], []
    for context in needed:
        answer = await ami.send_action({"Action": "ShowDialPlan", "Context": context},
                                       check=False)
        if not answer.ok:
            missing.append(context)
        elif not any(e.get("Event") == "ListDialplan" for e in answer.events):
            empty.append(context)
    if not missing and not empty:
        return Check("dialplan", "ok", f"{', '.join(needed)} are there")
    wrong = ([f"missing {', '.join(missing)}"] if missing else []) + \
        ([f"no extensions in {', '.join(empty)}"] if empty else [])
    return Check("dialplan", "FAIL", f"{'; '.join(wrong)}: copy them from "
                 f"deploy/asterisk/extensions.conf into your extensions.conf, {RELOAD}")


async def modules(ami: AmiConnection) -> Check:
    missing = []
    for name, why in MODULES:
        answer = await ami.send_action({"Action": "ModuleCheck", "Module": name},
                                       check=False)
        if not answer.ok:
            missing.append((name, why))
    if not missing:
        return Check("modules", "ok", f"all {len(MODULES)} the hotline uses are loaded")
    names = ", ".join(f"{name} ({why})" for name, why in missing)
    first = missing[0][0]
    return Check("modules", "FAIL", f"not loaded: {names}. Add `load => NAME.so` for each "
                 f"to modules.conf, and load them now: `module load {first}.so` in the "
                 "Asterisk CLI")


def _silence(path: Path, seconds: float = 0.3) -> None:
    """A short silent prompt, 8 kHz mono, the format `hotline prompts build` writes."""
    # The file is opened first: wave.open(path) fails untidily on a missing folder.
    with path.open("wb") as raw, wave.open(raw, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * int(8000 * seconds))


async def media_call(ami: AmiConnection, settings: Settings, timeout: float) -> list[Check]:
    """A Local channel plays a prompt the engine just wrote (the prompts folder as
    Asterisk sees it) while MixMonitor records it into the recordings folder as
    Asterisk sees it; then the engine looks for the recording where it reads them."""
    token = secrets.token_hex(4)
    name = f"hotline-doctor-{token}"
    prompt = settings.prompts_dir / f"{name}.wav"
    heard = settings.recordings_dir / f"{name}.wav"
    try:
        _silence(prompt)
    except OSError as exc:
        return [Check("prompts", "FAIL", f"the engine cannot write into {settings.prompts_dir}"
                      f" ({exc.strerror or exc}), where `hotline prompts build` puts the "
                      "prompts: create it (HOTLINE_PROMPTS_DIR) and let the engine's user "
                      "write it"),
                Check("recordings (Asterisk)", "skip", "needs the test prompt")]
    exten = f"d{token}"
    steps = [("Answer", ""),
             ("MixMonitor", f"{settings.recordings_dir_asterisk}/{name}.wav"),
             ("Playback", f"{settings.prompts_dir_asterisk}/{name}"),
             ("StopMixMonitor", ""),
             ("UserEvent", f"HotlineDoctor,Token: {token},Status: ${{PLAYBACKSTATUS}}"),
             ("Hangup", "")]
    done: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    def listen(msg: Message) -> None:
        if msg.get("UserEvent") == "HotlineDoctor" and msg.get("Token") == token \
                and not done.done():
            done.set_result(msg)

    ami.add_raw_listener(listen)
    try:
        for priority, (app, data) in enumerate(steps, 1):
            await ami.send_action({"Action": "DialplanExtensionAdd",
                                   "Context": DOCTOR_CONTEXT, "Extension": exten,
                                   "Priority": priority, "Application": app,
                                   "ApplicationData": data, "Replace": "yes"})
        await ami.send_action({"Action": "Originate",
                               "Channel": f"Local/{exten}@{DOCTOR_CONTEXT}",
                               "Application": "Wait", "Data": "15", "Async": "true",
                               "ChannelId": name, "OtherChannelId": f"{name}-2"})
        try:
            answered = await asyncio.wait_for(done, timeout)
        except TimeoutError:
            return [Check("prompts", "FAIL", f"the test call gave no answer within "
                          f"{timeout:.0f}s: check the Asterisk log for {DOCTOR_CONTEXT}"),
                    Check("recordings (Asterisk)", "skip", "needs the test call")]
        checks = [_prompt_verdict(answered.get("Status", ""), settings, prompt),
                  channel_variables_verdict(answered)]
        deadline = time.monotonic() + min(timeout, RECORDING_SETTLES)
        while not heard.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)  # MixMonitor closes its file a moment after it stops
        checks.append(_recording_verdict(heard.exists(), settings, name))
        return checks
    except AmiError as exc:
        return [Check("prompts", "FAIL", f"could not place the test call ({exc}): the AMI "
                      "user needs write = system,originate"),
                Check("recordings (Asterisk)", "skip", "needs the test call")]
    finally:
        ami.remove_raw_listener(listen)
        # Without a session the extension stays until the next `dialplan reload`.
        with contextlib.suppress(AmiError):
            await ami.send_action({"Action": "DialplanExtensionRemove",
                                   "Context": DOCTOR_CONTEXT, "Extension": exten},
                                  check=False)
        for leftover in (prompt, heard):
            leftover.unlink(missing_ok=True)


def channel_variables_verdict(event: Message) -> Check:
    """The test call's own event says whether manager.conf names the hotline call in
    every channel event (`channelvars`); without it the engines read Redis for every
    channel's hangup, agents' legs included."""
    carried = event.get("ChanVariable", "")
    if any(pair.partition("=")[0] == CALL_VARIABLE for pair in carried.split("\n")):
        return Check("channel variables", "ok", f"channel events carry {CALL_VARIABLE}")
    return Check("channel variables", "WARN", f"channel events do not carry {CALL_VARIABLE}: "
                 f"add `channelvars = {CALL_VARIABLE}` to [general] in manager.conf, then "
                 "`manager reload`; until then every engine reads Redis for every channel's "
                 "hangup")


def _prompt_verdict(status: str, settings: Settings, prompt: Path) -> Check:
    if status == "SUCCESS":
        return Check("prompts", "ok", f"Asterisk plays what the engine writes: "
                     f"{settings.prompts_dir} is {settings.prompts_dir_asterisk} for Asterisk")
    return Check("prompts", "FAIL", f"Asterisk could not play the test prompt the engine "
                 f"wrote as {prompt} (playback {status or 'gave no status'}): "
                 "HOTLINE_PROMPTS_DIR_ASTERISK must be that same folder as Asterisk sees it "
                 f"(now {settings.prompts_dir_asterisk}), readable by Asterisk's user")


def _recording_verdict(found: bool, settings: Settings, name: str) -> Check:
    if found:
        return Check("recordings (Asterisk)", "ok", "Asterisk records where the engine "
                     f"reads: {settings.recordings_dir_asterisk} is {settings.recordings_dir}")
    return Check("recordings (Asterisk)", "FAIL", "the test call's recording, which "
                 f"Asterisk writes as {settings.recordings_dir_asterisk}/{name}.wav, does not "
                 f"appear in {settings.recordings_dir}: HOTLINE_RECORDINGS_DIR_ASTERISK must "
                 "be that same folder as Asterisk sees it, writable by Asterisk's user (if "
                 "the file is elsewhere, delete it there)")


async def agents_phones(ami: AmiConnection, settings: Settings) -> Check:
    path = settings.pjsip_agents_file
    if path is None:
        return Check("agents' phones", "ok", "HOTLINE_PJSIP_AGENTS_FILE is not set: the "
                     "operator provisions the agents' PJSIP endpoints")
    include = ("pjsip.conf must include this very file (`#include` or `#tryinclude`; "
               "the sandbox's includes pjsip_agents.conf from its etc folder), then "
               "`module reload res_pjsip.so`")
    if not path.exists():
        return Check("agents' phones", "FAIL", f"{path} does not exist: the engine writes "
                     f"it when a config version goes live (start `hotline serve`); {include}")
    try:
        names = endpoints_in(path.read_text(errors="replace"))
    except OSError as exc:
        return Check("agents' phones", "FAIL", f"cannot read {path} ({exc.strerror})")
    unknown = [n for n in names if not (await ami.send_action(
        {"Action": "PJSIPShowEndpoint", "Endpoint": n}, check=False)).ok]
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        return Check("agents' phones", "FAIL", f"Asterisk has no endpoint "
                     f"{', '.join(unknown[:3])}{more} of {path}: {include}")
    return Check("agents' phones", "ok", f"Asterisk knows all {len(names)} agent "
                 f"endpoint(s) of {path}")


async def clock(ami: AmiConnection) -> Check:
    sent = time.time()
    answer = await ami.send_action({"Action": "Ping"})
    back = time.time()
    # Asterisk stamped its answer somewhere within the round trip: take the middle.
    return judge_clock(float(answer.fields.get("Timestamp", back)) - (sent + back) / 2)

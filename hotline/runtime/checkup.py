"""What `hotline doctor` decides, with no I/O: what the engine needs of Asterisk, how to
read what Asterisk or manager.conf says about the AMI user, and each verdict in words an
operator can act on at 3 a.m."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "WARN", "FAIL", "skip"]

# Read: FullyBooted/Shutdown, channels and hangups, AsyncAGI, UserEvents, queue members.
READ_NEEDED = ("system", "call", "agi", "user", "agent")
# Write: AGI, Redirect/Hangup/Setvar, Originate, CoreShowChannels/Status, MixMonitor.
WRITE_NEEDED = ("call", "agi", "originate", "reporting", "system")
# Every class Asterisk 22 knows: `all` grants each of them, `dtmf` included.
ALL_CLASSES = ("system", "call", "log", "verbose", "command", "agent", "user", "config",
               "dtmf", "reporting", "cdr", "dialplan", "originate", "agi", "cc", "aoc",
               "test", "security", "message")

# The modules the dialplan and the engine use, and what a caller loses without each.
MODULES = (
    ("pbx_config", "extensions.conf itself"),
    ("res_agi", "AGI(agi:async), every menu"),
    ("app_dial", "ringing agents and the fallback person"),
    ("app_mixmonitor", "whole-call recording"),
    ("app_playback", "the fallback's apology"),
    ("app_userevent", "the fallback's event to the engine"),
    ("res_musiconhold", "hold music"),
    ("func_cut", "hotline-connect's ring time and agent"),
    ("func_channel", "hotline-agents: which phone dialled"),
    ("func_strings", "FILTER() on caller IDs where calls enter"),
    ("format_wav", "WAV prompts and recordings"),
    ("bridge_simple", "caller and agent talking"),
    ("res_pjsip", "SIP: agents' softphones and trunks"),
    ("chan_pjsip", "SIP channels"),
)

CLOCK_SKEW_LIMIT = 2.0  # seconds: due times, waits and statistics compare the two clocks


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name}: {self.detail}"


def _classes(text: str) -> set[str]:
    names = {c.strip().lower() for c in text.split(",") if c.strip()}
    names.discard("<none>")
    return set(ALL_CLASSES) if "all" in names else names


def classes_from_show_user(output: str) -> tuple[set[str], set[str]] | None:
    """The read and write classes in Asterisk's `manager show user NAME` output; None
    when the output has none (no such user)."""
    read = re.search(r"read perm:\s*(\S*)", output)
    write = re.search(r"write perm:\s*(\S*)", output)
    if read is None or write is None:
        return None
    return _classes(read.group(1)), _classes(write.group(1))


def classes_from_manager_conf(text: str, user: str) -> tuple[set[str], set[str]] | None:
    """The read and write classes of `[user]` in a manager.conf; None when it has no
    such section. The last `read`/`write` line wins, as in Asterisk."""
    section: str | None = None
    found = False
    read: set[str] = set()
    write: set[str] = set()
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        header = re.fullmatch(r"\[([^\]]+)\](?:\(.*\))?", line)
        if header:
            section = header.group(1).strip()
            found = found or section == user
            continue
        if section != user or "=" not in line:
            continue
        key, _, value = (part.strip() for part in line.partition("="))
        if key.lower() == "read":
            read = _classes(value)
        elif key.lower() == "write":
            write = _classes(value)
    return (read, write) if found else None


def judge_classes(user: str, read: set[str], write: set[str], source: str) -> Check:
    where = f"[{user}] in manager.conf, then `manager reload` in the Asterisk CLI"
    wrong: list[str] = []
    if "dtmf" in read:
        wrong.append("read grants dtmf (or all): every key a caller presses, PINs "
                     "included, streams to AMI readers. Set read = " + ",".join(READ_NEEDED))
    if missing := [c for c in READ_NEEDED if c not in read]:
        wrong.append(f"read lacks {','.join(missing)}: add them to read =")
    if missing := [c for c in WRITE_NEEDED if c not in write]:
        wrong.append(f"write lacks {','.join(missing)}: add them to write =")
    if wrong:
        return Check("AMI classes", "FAIL", "; ".join(wrong) + f" of {where} (seen in "
                     f"{source})")
    shown = f"read {','.join(sorted(read))}; write {','.join(sorted(write))}; no dtmf"
    if "command" in write:
        return Check("AMI classes", "WARN", f"{shown}, but write grants command: anyone "
                     "with the AMI secret can run any Asterisk CLI command, which the engine "
                     f"never needs. Remove it from write = of {where}")
    return Check("AMI classes", "ok", f"{shown} (seen in {source})")


def judge_clock(skew: float, limit: float = CLOCK_SKEW_LIMIT) -> Check:
    way = "ahead of" if skew > 0 else "behind"
    if abs(skew) > limit:
        return Check("clock", "WARN", f"Asterisk's clock is {abs(skew):.1f}s {way} this "
                     "machine's: run NTP (chrony or systemd-timesyncd) on both; ring times, "
                     "waits and the statistics compare the two clocks")
    return Check("clock", "ok", f"Asterisk and this machine agree within {abs(skew):.2f}s")


def endpoints_in(text: str) -> list[str]:
    """The endpoint sections of a PJSIP config file (the agents' file the engine writes)."""
    names: list[str] = []
    section: str | None = None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        header = re.fullmatch(r"\[([^\]]+)\](?:\(.*\))?", line)
        if header:
            section = header.group(1).strip()
        elif section and section not in names and re.fullmatch(
                r"type\s*=\s*endpoint", line, re.IGNORECASE):
            names.append(section)
    return names

"""Engine CPU per complete call: how many milliseconds of the engine process one call
costs, menus, queue, agent, hangup, recording and survey sampling included.

    python bench/engine_cpu.py [--calls 500] [--concurrent 15] [--warm-up 30]
                               [--monitor FILE] [--logs DIR] [--lanes N]

It starts its own Asterisk sandbox instance ("bench-cpu") and redis-server on free ports,
and one real `hotline serve` process, so the engine's CPU is that process's alone
(`/proc/<pid>/stat`, utime + stime, in clock ticks). Every call is a simulated caller (a
Local channel pressing keys with SendDTMF) through a three-step menu: language (1 zh,
2 en), service (billing, faults, general), and a sub-menu whose choice leads to one of
three queues; one of 20 agents (Local/<id>@sim-agent: answers at once, talks 3 s and
hangs up) takes the call, then wraps up 2 s. Every call is recorded and filed in the
recording index; one served call in ten (the YAML's default rate) is sampled for a
satisfaction callback, which a simulated customer answers and grades. `--concurrent`
callers are on the line at every moment (moderate on purpose: the figure is CPU per
call, not throughput, and Asterisk must not starve the engine on two cores).

Before any call, the engine is measured idle for `--idle` seconds (agents ready, nobody
calling): its lease, matcher and timers cost this per second whatever the load. The
window opens when the `--warm-up`-th call ends and closes when `--calls` more have
ended, while the load goes on unchanged; the engine's CPU and Redis's INFO commandstats
are read at both ends (in the AMI listener, as the Hangup arrives), and the CPU is
also read at every call end, so the window splits into five equal slices of calls.
Read:
- engine CPU ms per call: the whole window's CPU over its calls (the JSON figure), and
  the median and range over the five slices (how steady it is);
- Redis commands per call: those the engine sends (the JSON's
  `redis_commands_per_call`; a script call is one, each command of a pipeline one),
  counted from a MONITOR connection's lines over the window; and those Redis runs
  (`redis_commands_run_per_call`: commandstats deltas, what scripts run inside counted
  too), top 10 by name. With `--monitor FILE`, the window's raw lines go into FILE and
  the commands are broken down by key family: the first key of each command with ids
  as `*`; an EVALSHA by its script's first key and the sha's first 8 characters (and
  the script's name when its text is found in the source). MONITOR costs Redis, not
  the engine, a little CPU;
- the engine's RSS at both ends of the window, its log's tracebacks, ERROR and WARNING
  lines (a nonzero count of the first two is a warning line);
- lost calls: every call placed is accounted for after the run; lost when the caller
  never reached an agent (never reached the engine, sent to a person by a failure, no
  agent answered, still up after 120 s) or the recording is missing from the index (or
  filed with problems).
With `--lanes N`, the same sandbox runs 2N passes, the Redis lane (HOTLINE_REDIS_LANE)
off then on in turn, each pass with its own Redis and engine; the last JSON line is the
last pass's, with both sides' median and range of CPU per call and their ratio.
Last line: JSON.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from agents.state import Move
from hotline.calls.records import CallLog
from hotline.dev import sandbox
from hotline.dev.configs import OPEN_ALL_WEEK
from hotline.dev.local_redis import LocalRedis
from hotline.dev.serving import ServeProcesses
from hotline.dev.simulated_callers import SimulatedCaller, place_call
from hotline.runtime.redis_client import connect
from pbx.ami import AmiConnection, AmiError
from pbx.ami_codec import Message
from pbx.originate import AmiOriginator
from quality.recording_index import RecordingIndex
from quality.survey_jobs import SurveyJobs
from routing.store import RoutingStore

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "bench-cpu:"
AGENTS = [str(5001 + i) for i in range(20)]
SLICES = 5
CALL_MAX_S = 120.0  # a caller still on after this is stuck: the seat moves on
STALL_S = 90.0  # no call ended for this long: the window closes where it is
FILE_GRACE_S = 30.0  # after the last hangup, for the engine to file the recordings
SURVEY_GRACE_S = 60.0  # after that, for the sampled customers' callbacks to end
CLK_TCK = os.sysconf("SC_CLK_TCK")

# The third step: service key -> (its sub-menu node, the queue its choices lead to).
SERVICES = {"1": ("billing", "billing"), "2": ("faults", "faults"), "3": ("general", "general")}


def engine_config() -> str:
    """Three menu steps to three queues; 20 agents with every skill; recording on (as
    the example config); sampling at the default rate, due 5 s after the call, one
    attempt, on a simulated customer who answers and presses 4."""
    agents = "".join(
        f'  "{a}": {{name: Agent {a}, endpoint: Local/{a}@sim-agent, '
        f"skills: {{billing: 5, faults: 5, general: 5}}, wrap_up: 2s}}\n" for a in AGENTS)
    return f"""\
numbers:
  unified: "10000"
  start: language
{OPEN_ALL_WEEK}languages:
  default: zh
  offered: [zh, en]
prompts:
  choose_language:
    text: {{zh: "中文服务请按1。For English, press 2.", en: "Chinese 1. English 2."}}
  services:
    text: {{zh: "账单请按1。故障请按2。其他问题请按3。", en: "Billing 1. Faults 2. Other 3."}}
  billing_menu:
    text: {{zh: "账单问题请按1。充值问题请按2。", en: "A bill 1. A top-up 2."}}
  faults_menu:
    text: {{zh: "宽带故障请按1。手机故障请按2。", en: "Broadband 1. Mobile 2."}}
  general_menu:
    text: {{zh: "咨询请按1。建议请按2。", en: "A question 1. A suggestion 2."}}
  grade:
    text: {{zh: "请为本次服务打分。一到五分。", en: "Please grade our service, one to five."}}
  thanks:
    text: {{zh: "感谢您的评价。再见。", en: "Thank you. Goodbye."}}
menus:
  language:
    kind: choice
    prompt: choose_language
    timeout: 10s
    keys: {{"1": lang_zh, "2": lang_en}}
  lang_zh: {{kind: language, language: zh, next: services}}
  lang_en: {{kind: language, language: en, next: services}}
  services:
    kind: choice
    prompt: services
    timeout: 10s
    keys: {{"1": billing, "2": faults, "3": general}}
  billing:
    kind: choice
    prompt: billing_menu
    timeout: 10s
    keys: {{"1": billing_queue, "2": billing_queue}}
  faults:
    kind: choice
    prompt: faults_menu
    timeout: 10s
    keys: {{"1": faults_queue, "2": faults_queue}}
  general:
    kind: choice
    prompt: general_menu
    timeout: 10s
    keys: {{"1": general_queue, "2": general_queue}}
  billing_queue: {{kind: queue, queue: billing}}
  faults_queue: {{kind: queue, queue: faults}}
  general_queue: {{kind: queue, queue: general}}
  survey:
    kind: choice
    prompt: grade
    keys: {{"1": thanks, "2": thanks, "3": thanks, "4": thanks, "5": thanks}}
  thanks: {{kind: hangup, prompt: thanks}}
skills:
  billing: {{name: Billing}}
  faults: {{name: Faults}}
  general: {{name: General}}
agents:
{agents}queues:
  billing: {{name: Billing, skills: {{billing: 1}}}}
  faults: {{name: Faults, skills: {{faults: 1}}}}
  general: {{name: General, skills: {{general: 1}}}}
vip:
  lookup: customer_directory
  aging: 0.0
  tiers:
    normal: {{priority: 0, max_wait: 300s}}
recording:
  enabled: true
sampling:
  rate: 0.10
  delay: 5s
  ring_for: 20s
  retry_after: 1h
  attempts: 1
  at_most_every_days: 0
  survey: survey
backends:
  callback_trunk: Local/{{number}}@sim-customer
"""


# --- the engine process, from /proc ------------------------------------------------------

def cpu_ticks(pid: int) -> int:
    """utime + stime of the process (all its threads), in clock ticks."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()  # fields from the 3rd (state) on
    return int(fields[11]) + int(fields[12])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ticks_ms(ticks: int) -> float:
    return ticks * 1000 / CLK_TCK


def commandstats(redis: SyncRedis) -> Counter[str]:
    """Commands Redis has run so far, by name (INFO commandstats), scripts' included."""
    stats = redis.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(value["calls"])
                    for name, value in stats.items() if isinstance(value, dict)})


# --- the calls, as Asterisk reports them -------------------------------------------------

@dataclass
class Call:
    call_id: str
    number: str
    keys: str
    sub_menu: str  # the node of the third step
    done: asyncio.Event = field(default_factory=asyncio.Event)
    ended_at: float | None = None
    end_index: int | None = None  # its place among the calls ended (0-based)


@dataclass(frozen=True)
class Mark:
    """The engine at the moment a call ended (the Hangup's arrival here)."""

    at: float  # monotonic
    wall: float  # epoch, for MONITOR's timestamps
    ticks: int
    rss: float


class Watch:
    """Hangups, agents answering and fallbacks, as they happen; the engine's CPU at every
    call end, and Redis's commandstats at both ends of the window."""

    def __init__(self, pid: int, stats: SyncRedis, opens_at: int, closes_at: int) -> None:
        self.pid = pid
        self.stats = stats
        self.opens_at = opens_at  # the call end that opens the window (1-based count)
        self.closes_at = closes_at
        self.calls: dict[str, Call] = {}
        self.marks: list[Mark] = []
        self.answered: set[str] = set()  # caller numbers an agent's phone answered
        self.to_person: set[str] = set()
        self.stats_at_open: Counter[str] | None = None
        self.stats_at_close: Counter[str] | None = None
        self.opened = asyncio.Event()
        self.closed = asyncio.Event()
        self.not_placed = 0  # originates Asterisk refused (printed as they happen)
        self.cut_short = ""  # why the window closed before `closes_at`, if it did
        self.problems: list[str] = []

    def expect(self, call: Call) -> None:
        self.calls[call.call_id] = call

    def forget(self, call_id: str) -> None:
        self.calls.pop(call_id, None)

    def __call__(self, msg: Message) -> None:
        event = msg.get("Event")
        if event == "Hangup":
            call = self.calls.get(msg.get("Uniqueid", ""))
            if call is not None and call.ended_at is None:
                self._ended(call)
        elif event == "UserEvent":
            kind = msg.get("UserEvent")
            if kind == "HotlineAgentAnswered":
                self.answered.add(msg.get("Caller", ""))
            elif kind == "HotlineFallback":
                self.to_person.add(msg.get("CallId", ""))

    def _ended(self, call: Call) -> None:
        call.ended_at = time.monotonic()
        call.done.set()
        if self.closed.is_set():
            return  # past the window: nothing more to read
        try:
            mark = Mark(call.ended_at, time.time(), cpu_ticks(self.pid), rss_mb(self.pid))
        except (OSError, ValueError, IndexError) as exc:
            # The engine is gone: the window ends at the last call end it lived to see.
            self.problems.append(f"engine's /proc unreadable: {exc}")
            self.close("the engine's process is gone")
            return
        call.end_index = len(self.marks)
        self.marks.append(mark)
        if len(self.marks) == self.opens_at:
            self.stats_at_open = self._stats()
            self.opened.set()
        elif len(self.marks) == self.closes_at:
            self.close("")

    def close(self, why: str) -> None:
        """The window ends at the last call end seen (`why` says why, if early)."""
        if self.closed.is_set():
            return
        self.cut_short = why
        self.stats_at_close = self._stats()
        self.closed.set()

    def _stats(self) -> Counter[str] | None:
        try:
            return commandstats(self.stats)
        except Exception as exc:  # an instrument reports; it does not die in a listener
            self.problems.append(f"INFO commandstats failed: {exc}")
            return None


async def seat(slot: int, ami: AmiConnection, watch: Watch, stop: asyncio.Event,
               rng: random.Random) -> None:
    """One seat of the crowd: calls, and calls again once the call is over."""
    originator = AmiOriginator(ami)
    await asyncio.sleep(slot * 0.25)  # the first callers do not arrive in one burst
    n = 0
    while not stop.is_set():
        n += 1
        language, service, choice = rng.choice("12"), rng.choice("123"), rng.choice("12")
        keys = f"{language}ww{service}ww{choice}"  # a second between the steps
        person = SimulatedCaller(caller_number=f"136{slot:03d}{n:05d}", caller_name="CPU",
                                 keys=keys, delay=1.5, stay=60)
        call = Call(person.call_id, person.caller_number, keys, SERVICES[service][0])
        watch.expect(call)
        try:
            await place_call(originator, person)
        except AmiError as exc:
            watch.forget(call.call_id)
            watch.not_placed += 1
            print(f"  seat {slot}: a call could not be placed: {exc}", flush=True)
            await asyncio.sleep(1)
            continue
        try:
            await asyncio.wait_for(call.done.wait(), CALL_MAX_S)
        except TimeoutError:
            print(f"  seat {slot}: call {call.call_id} still up after {CALL_MAX_S:.0f}s",
                  flush=True)
        await asyncio.sleep(rng.uniform(0.2, 1.0))  # callers do not redial in lockstep


# --- after the run: every call accounted for ---------------------------------------------

@dataclass
class Tally:
    lost: Counter[str] = field(default_factory=Counter)
    lost_measured: int = 0
    lost_ids: list[str] = field(default_factory=list)
    not_three_steps: int = 0
    surveys_sampled: int = 0
    surveys_done: int = 0
    unchecked: str = ""  # why the calls could not be checked, if they could not


async def until_filed(index: RecordingIndex, calls: Iterable[Call], grace: float) -> None:
    pending = list(calls)
    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        pending = [c for c in pending if "sha256" not in await index.entry(c.call_id)]
        if pending:
            await asyncio.sleep(1)


async def until_surveyed(jobs: SurveyJobs, calls: Iterable[Call], grace: float) -> None:
    pending = list(calls)
    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        pending = [c for c in pending
                   if (await jobs.state(c.call_id)).get("state") in ("due", "placing")]
        if pending:
            await asyncio.sleep(1)


async def tally(redis: Redis, watch: Watch) -> Tally:
    store = RoutingStore(redis, PREFIX)
    call_log = CallLog(redis, PREFIX, time.time, 60)
    index = RecordingIndex(redis, PREFIX)
    jobs = SurveyJobs(redis, PREFIX)
    result = Tally()
    for call in watch.calls.values():
        why = ""
        record = await call_log.record(call.call_id)
        if "started" not in record:
            why = "never reached the engine"
        elif call.call_id in watch.to_person:
            why = "sent to a person by a failure"
        elif call.number not in watch.answered:
            routed = await store.call(call.call_id)
            why = ("no agent answered" if routed.get("agent")
                   else f"never reached an agent (state {routed.get('state', 'none')})")
        elif call.ended_at is None:
            why = f"still up after {CALL_MAX_S:.0f}s"
        else:
            entry = await index.entry(call.call_id)
            if "sha256" not in entry:
                why = "recording missing from the index"
            elif json.loads(entry.get("problems", "[]")):
                why = f"recording filed with problems {entry['problems']}"
        if why:
            result.lost[why] += 1
            # In the window: ended after the opening call end (marks[opens_at - 1]).
            result.lost_measured += call.end_index is not None and \
                call.end_index >= watch.opens_at
            if len(result.lost_ids) < 10:
                result.lost_ids.append(f"{call.call_id} ({call.number}, keys {call.keys}): {why}")
        steps = await call_log.steps(call.call_id)
        if not any(str(s.get("command", "")).startswith(f"NOTE menu {call.sub_menu} ")
                   for s in steps):
            result.not_three_steps += 1
        job = await jobs.state(call.call_id)
        if job:
            result.surveys_sampled += 1
            result.surveys_done += job.get("state") == "done"
    return result


# --- the engine's log --------------------------------------------------------------------

LOG_LINE = re.compile(r"^\S+ \S+ (ERROR|WARNING|CRITICAL) (.*)$")
IDS = re.compile(r"sim-[0-9a-f]+|phone-\S+|\b[0-9a-f]{12,}\b|\d+(\.\d+)?")


def log_findings(serving: ServeProcesses) -> tuple[int, int, Counter[str]]:
    """(tracebacks, ERROR lines, the ERROR/WARNING messages with ids as *, counted)."""
    errors = 0
    messages: Counter[str] = Counter()
    for n in range(1, serving.started + 1):
        path = serving.log_of(n)
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            found = LOG_LINE.match(line)
            if found:
                errors += found.group(1) != "WARNING"
                messages[f"{found.group(1)} {IDS.sub('*', found.group(2))[:160]}"] += 1
    return serving.tracebacks(), errors, messages


# --- MONITOR: commands by key family -----------------------------------------------------

MONITOR_LINE = re.compile(r'^(\d+\.\d+) \[\d+ ([^\]]+)\] (.*)$')
ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')
ID_PART = re.compile(r"\d|^[0-9a-f]{16,}$")
NO_KEY = {"ping", "info", "client", "select", "hello", "script", "multi", "exec", "discard",
          "auth", "command", "time", "echo", "config", "dbsize", "monitor", "quit", "reset",
          "unwatch", "readonly", "wait", "memory", "slowlog", "latency"}
SCRIPT_RUNS = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}
ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b", '"': b'"', "\\": b"\\"}


def unescape(text: str) -> bytes:
    """An argument as MONITOR quotes it (sdscatrepr), back to its bytes."""
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following == "x" and i + 3 < len(text):
                with contextlib.suppress(ValueError):
                    out.append(int(text[i + 2:i + 4], 16))
                    i += 4
                    continue
            if following in ESCAPES:
                out += ESCAPES[following]
                i += 2
                continue
        out += text[i].encode()
        i += 1
    return bytes(out)


def family(key: str) -> str:
    """The key with its ids as `*`: in each part between colons, every dash-separated
    word with a digit in it (`{routing}:call:phone-sim-1a2b` -> `{routing}:call:phone-sim-*`,
    a day `2026-05-01` -> `*`)."""
    parts = []
    for part in key.split(":"):
        inner = part.strip("{}")
        words = ["*" if ID_PART.search(word) else word for word in inner.split("-")]
        inner = re.sub(r"\*(-\*)+", "*", "-".join(words))
        parts.append(part[:len(part) - len(part.lstrip("{"))] + inner
                     + part[len(part.rstrip("}")):])
    return ":".join(parts) + ("(empty)" if key.endswith(":") else "")


def first_key(args: list[str]) -> str | None:
    command = args[0].lower()
    if command in NO_KEY:
        return None
    if command in SCRIPT_RUNS:
        keys = int(args[2]) if len(args) > 2 and args[2].isdigit() else 0
        return args[3] if keys and len(args) > 3 else None
    if command in ("xinfo", "object", "xgroup"):
        return args[2] if len(args) > 2 else None
    if command in ("xread", "xreadgroup"):
        upper = [a.upper() for a in args]
        return args[upper.index("STREAMS") + 1] if "STREAMS" in upper[:-1] else None
    return args[1] if len(args) > 1 else None


def script_names(bodies: dict[str, bytes]) -> dict[str, str]:
    """sha -> a name for the script: the Lua files of the source it is made of, or the
    module constant that is its text."""
    lua = {p.stem: p.read_text().strip() for p in ROOT.glob("*/scripts/*.lua")}
    constants: dict[str, str] = {}
    for package in ("agents", "config", "hotline", "ivr", "pbx", "quality", "routing"):
        for path in (ROOT / package).rglob("*.py"):
            try:
                tree = ast.parse(path.read_text())
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in tree.body:
                if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                        and isinstance(node.value.value, str)
                        and "redis.call" in node.value.value):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            constants[f"{path.stem}.{target.id}"] = node.value.value.strip()
    names: dict[str, str] = {}
    for sha, body in bodies.items():
        text = body.decode(errors="replace")
        parts = [name for name, source in lua.items() if source and source in text]
        parts.sort(key=lambda name: text.index(lua[name]))
        exact = [name for name, source in constants.items() if source == text.strip()]
        if exact or parts:
            names[sha] = "+".join(exact or parts)
    return names


@dataclass
class MonitorReport:
    lines: int = 0
    client: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    inside: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    scripts: Counter[str] = field(default_factory=Counter)  # runs per sha
    inside_by_script: dict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter))
    names: dict[str, str] = field(default_factory=dict)


def read_monitor(raw: Path, begin: float, end: float, keep: Path) -> MonitorReport:
    """The window's lines [begin, end] copied raw into `keep`, and broken down. Script
    texts are read from SCRIPT LOAD lines anywhere in the capture (the engine loads
    each script once, before the window). A script's own commands follow its EVALSHA
    line; they are counted by family and by script."""
    report = MonitorReport()
    bodies: dict[str, bytes] = {}
    running: str | None = None  # the sha of the last script run seen
    with raw.open(errors="replace") as lines, keep.open("w") as out:
        for line in lines:
            found = MONITOR_LINE.match(line)
            if not found:
                continue
            args = ARG.findall(found.group(3))
            if not args:
                continue
            command = args[0].lower()
            if command == "script" and len(args) > 2 and args[1].lower() == "load":
                body = unescape(args[2])
                bodies[hashlib.sha1(body).hexdigest()] = body
            elif command == "eval" and len(args) > 1:
                body = unescape(args[1])
                bodies[hashlib.sha1(body).hexdigest()] = body
            if not begin <= float(found.group(1)) <= end:
                continue
            out.write(line)
            if command == "info" and args[1:] == ["commandstats"]:
                continue  # the bench's own reading at the window's ends
            report.lines += 1
            key = first_key(args)
            where = family(key) if key is not None else "(no key)"
            if found.group(2) == "lua":
                report.inside[where][command] += 1
                if running is not None:
                    report.inside_by_script[running][command] += 1
                continue
            if command in SCRIPT_RUNS:
                sha = (hashlib.sha1(unescape(args[1])).hexdigest() if command.startswith("eval")
                       and not command.startswith("evalsha") else args[1].lower())
                running = sha
                report.scripts[sha] += 1
                command = f"{command} {sha[:8]}"
            else:
                running = None
            report.client[where][command] += 1
    report.names = script_names(bodies)
    return report


def per_call(counts: Counter[str], calls: int, names: dict[str, str] | None = None,
             limit: int = 8) -> str:
    shown = []
    for command, count in counts.most_common(limit):
        label = command
        if names and " " in command:
            name = next((n for s, n in names.items() if s.startswith(command.split()[1])), "")
            label = f"{command} ({name})" if name else command
        shown.append(f"{label} {count / calls:.2f}")
    rest = len(counts) - limit
    return ", ".join(shown) + (f", and {rest} more" if rest > 0 else "")


def family_table(title: str, by_family: dict[str, Counter[str]], calls: int,
                 names: dict[str, str]) -> list[str]:
    total = sum(sum(c.values()) for c in by_family.values())
    rows = sorted(by_family.items(), key=lambda item: -sum(item[1].values()))
    lines = [f"{title}: {total / calls:.1f} per call", f"  {'/call':>7}  {'family':<48} commands"]
    for where, counts in rows:
        lines.append(f"  {sum(counts.values()) / calls:7.2f}  {where:<48} "
                     f"{per_call(counts, calls, names)}")
    return lines


def monitor_lines(report: MonitorReport, calls: int) -> list[str]:
    lines = [f"MONITOR over the window: {report.lines} commands, {report.lines / calls:.1f} "
             f"per call (ids in keys shown as *)"]
    lines += family_table("Sent by clients (each one a command on a connection), by the "
                          "first key", report.client, calls, report.names)
    lines += family_table("Run inside scripts (no round trip; commandstats counts them), "
                          "by the first key", report.inside, calls, report.names)
    lines.append("Scripts: runs per call, and the commands each runs per call")
    for sha, runs in report.scripts.most_common():
        name = report.names.get(sha, "?")
        inner = report.inside_by_script.get(sha, Counter())
        lines.append(f"  {runs / calls:7.2f}  {sha[:8]} {name:<40} inside: "
                     f"{sum(inner.values()) / calls:.2f} ({per_call(inner, calls, limit=6)})")
    return lines


# --- the run -----------------------------------------------------------------------------

@dataclass
class Figures:
    lines: list[str] = field(default_factory=list)
    json: dict[str, object] = field(default_factory=dict)


def slices_ms(marks: list[Mark], calls: int) -> list[float]:
    """CPU ms per call over SLICES equal runs of the window's calls (marks[0] opens)."""
    parts = min(SLICES, calls)
    bounds = [round(k * calls / parts) for k in range(parts + 1)]
    return [ticks_ms(marks[b].ticks - marks[a].ticks) / (b - a)
            for a, b in itertools.pairwise(bounds) if b > a]


async def idle_cost(pid: int, stats: SyncRedis, seconds: float) -> tuple[float, float]:
    """(engine CPU ms per second, Redis commands per second) with nobody calling."""
    before, commands = cpu_ticks(pid), commandstats(stats)
    began = time.monotonic()
    await asyncio.sleep(seconds)
    spent = time.monotonic() - began
    delta = commandstats(stats)
    delta.subtract(commands)
    delta["info"] -= 1  # ours
    return ticks_ms(cpu_ticks(pid) - before) / spent, sum((+delta).values()) / spent


async def progress(watch: Watch, proc: asyncio.subprocess.Process, began: float) -> None:
    """A line every 30 s; the window closes early if the engine dies or calls stall."""
    last_report = time.monotonic()
    while not watch.closed.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.closed.wait(), 5)
        if watch.closed.is_set():
            return
        now = time.monotonic()
        if proc.returncode is not None:
            watch.close(f"the engine exited with code {proc.returncode}")
        elif watch.marks and now - watch.marks[-1].at > STALL_S:
            watch.close(f"no call ended for {STALL_S:.0f}s")
        elif not watch.marks and now - began > STALL_S + CALL_MAX_S:
            watch.close("no call ended at all")
        if now - last_report >= 30:
            last_report = now
            ended = len(watch.marks)
            inside = max(ended - watch.opens_at, 0)
            line = f"  {now - began:4.0f}s: {ended} calls ended, {inside} in the window"
            if inside:
                opened = watch.marks[watch.opens_at - 1]
                so_far = ticks_ms(watch.marks[-1].ticks - opened.ticks) / inside
                line += (f", engine CPU {so_far:.2f} ms/call so far, "
                         f"RSS {watch.marks[-1].rss:.1f} MB")
            print(line, flush=True)


async def run(box: sandbox.SandboxInstance, server: LocalRedis, args: argparse.Namespace,
              scratch: Path, lane: bool) -> Figures:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM: the same clean stop as Ctrl-C
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    config = scratch / "engine_cpu.yaml"
    config.write_text(engine_config())
    logs: Path = args.logs or scratch
    redis = connect(server.url)
    stats = SyncRedis.from_url(server.url, socket_timeout=10, decode_responses=True)
    ami = AmiConnection(box.ami, lambda _event: None)
    environment = sandbox.serve_environment(box, server.url, PREFIX, config)
    environment["HOTLINE_REDIS_LANE"] = "on" if lane else "off"
    serving = ServeProcesses(environment, PREFIX, logs, redis, name="cpu")
    monitor: asyncio.subprocess.Process | None = None
    raw_monitor = scratch / "monitor.raw"
    seats: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    try:
        # The commands the engine sends (a script call is one) are counted from
        # MONITOR's lines: commandstats counts what scripts run inside too.
        with raw_monitor.open("wb") as sink:
            monitor = await asyncio.create_subprocess_exec(
                "redis-cli", "-p", str(server.port), "monitor", stdout=sink,
                stderr=asyncio.subprocess.DEVNULL)
        ami.start()
        await ami.wait_up(30)
        proc, lease = await serving.start()
        store = RoutingStore(redis, PREFIX)
        now = time.time()
        for agent in AGENTS:
            await store.apply(agent, Move.LOG_IN, now)
            await store.apply(agent, Move.GO_READY, now)
        await asyncio.sleep(3)  # the engine settles: prompts, first matcher rounds
        idle_ms_s, idle_cmd_s = await idle_cost(proc.pid, stats, args.idle)
        print(f"engine pid {proc.pid} (lease {lease}); idle for {args.idle:g}s with the "
              f"agents ready: {idle_ms_s:.2f} ms CPU/s, {idle_cmd_s:.1f} Redis commands/s",
              flush=True)
        watch = Watch(proc.pid, stats, args.warm_up, args.warm_up + args.calls)
        ami.add_raw_listener(watch)
        began = time.monotonic()
        rng = random.Random(20260501)
        seats = [asyncio.create_task(seat(s, ami, watch, stop, rng))
                 for s in range(args.concurrent)]
        watcher = asyncio.create_task(progress(watch, proc, began))
        await asyncio.wait([asyncio.create_task(watch.opened.wait()), watcher],
                           return_when=asyncio.FIRST_COMPLETED)
        if watch.opened.is_set():
            opened = watch.marks[args.warm_up - 1]
            print(f"warm-up done: {args.warm_up} calls ended in {opened.at - began:.0f}s; "
                  f"the window opens, engine RSS {opened.rss:.1f} MB", flush=True)
        await watch.closed.wait()
        await watcher
        stop.set()
        window_closed = time.monotonic()
        if watch.cut_short:  # nobody may be serving the calls on the line: they go now
            await sandbox.hang_up_everyone(ami)
        await asyncio.gather(*seats)  # the calls on the line end as they would
        await sandbox.wait_idle(ami, 30.0, 0.5)
        if monitor is not None and monitor.returncode is None:
            monitor.terminate()
            await monitor.wait()
        alive = proc.returncode is None  # a dead engine files and surveys nothing more
        try:
            await until_filed(RecordingIndex(redis, PREFIX), watch.calls.values(),
                              FILE_GRACE_S if alive else 0)
            await until_surveyed(SurveyJobs(redis, PREFIX), watch.calls.values(),
                                 SURVEY_GRACE_S if alive else 0)
            result = await tally(redis, watch)
        except (RedisError, OSError) as exc:
            result = Tally(unchecked=f"{type(exc).__name__}: {exc}")
        drained = time.monotonic() - window_closed
    finally:
        stop.set()
        for task_ in seats:
            task_.cancel()
        await asyncio.gather(*seats, return_exceptions=True)
        if monitor is not None and monitor.returncode is None:
            monitor.terminate()
            await monitor.wait()
        await serving.stop()
        with contextlib.suppress(Exception):
            await sandbox.hang_up_everyone(ami)
        await ami.close()
        await redis.aclose()
        stats.close()
    return report(watch, result, serving, args, raw_monitor, idle_ms_s, drained)


def report(watch: Watch, result: Tally, serving: ServeProcesses, args: argparse.Namespace,
           raw_monitor: Path, idle_ms_s: float, drained: float) -> Figures:
    figures = Figures()
    say = figures.lines.append
    for problem in dict.fromkeys(watch.problems):
        say(f"WARNING: {problem}")
    if len(watch.marks) <= watch.opens_at:
        say(f"WARNING: the window never opened ({watch.cut_short or 'no calls'}); "
            f"{len(watch.marks)} calls ended")
        figures.json = {"calls": 0, "engine_cpu_ms_per_call": None,
                        "redis_commands_per_call": None,
                        "lost_calls": sum(result.lost.values())}
        return figures
    marks = watch.marks[watch.opens_at - 1:]  # the opening call end, then the window's
    calls = len(marks) - 1
    seconds = marks[-1].at - marks[0].at
    if watch.cut_short:
        say(f"WARNING: the window closed early ({watch.cut_short}): {calls} calls measured, "
            f"not {args.calls}")
    whole = ticks_ms(marks[-1].ticks - marks[0].ticks) / calls
    parts = slices_ms(marks, calls)
    say(f"window: {calls} calls ended in {seconds:.0f}s ({calls / seconds:.2f} calls/s, "
        f"{args.concurrent} on the line at once), after {args.warm_up} warm-up calls")
    say(f"engine CPU per call: {whole:.2f} ms over the whole window "
        f"({ticks_ms(marks[-1].ticks - marks[0].ticks):.0f} ms for {calls} calls, "
        f"ticks of {1000 / CLK_TCK:.0f} ms); over {len(parts)} slices of "
        f"{calls // len(parts)}: median {statistics.median(parts):.2f} ms, range "
        f"{min(parts):.2f}-{max(parts):.2f} ms ({', '.join(f'{p:.2f}' for p in parts)})")
    say(f"  of which the idle engine's own work at this pace: "
        f"{idle_ms_s * seconds / calls:.2f} ms per call ({idle_ms_s:.2f} ms/s)")
    say(f"engine RSS {marks[0].rss:.1f} MB at the window's start, {marks[-1].rss:.1f} MB "
        f"at its end ({marks[-1].rss - marks[0].rss:+.1f} MB)")
    commands_per_call: float | None = None
    if watch.stats_at_open is not None and watch.stats_at_close is not None:
        delta = Counter(watch.stats_at_close)
        delta.subtract(watch.stats_at_open)
        delta["info"] -= 1  # the window's opening INFO is in the closing one's count
        delta = +delta
        total = sum(delta.values())
        commands_per_call = total / calls
        say(f"Redis commands run per call: {commands_per_call:.1f} (INFO commandstats over the "
            f"window; commands run inside scripts are counted too); top 10:")
        for name, count in delta.most_common(10):
            say(f"  {count / calls:8.2f}  {name:<18} {100 * count / total:5.1f}%")
    else:
        say("WARNING: no commandstats for the window (see above)")
    seen = read_monitor(raw_monitor, marks[0].wall, marks[-1].wall,
                        args.monitor or raw_monitor.with_suffix(".window"))
    sent = sum(sum(c.values()) for c in seen.client.values()) / calls
    say(f"Redis commands sent per call (MONITOR: a script call is one, each command of "
        f"a pipeline one): {sent:.1f}")
    if args.monitor:
        figures.lines += monitor_lines(seen, calls)
        say(f"  (raw MONITOR lines of the window in {args.monitor})")
    placed = len(watch.calls)
    lost: int | None = sum(result.lost.values())
    if result.unchecked:
        lost = None
        say(f"WARNING: the {placed} calls placed could not be checked ({result.unchecked})")
    else:
        say(f"calls placed {placed}, every one checked after the run ({drained:.0f}s to "
            f"drain): {lost} lost, {result.lost_measured} of them in the window; surveys "
            f"sampled {result.surveys_sampled} "
            f"({100 * result.surveys_sampled / max(placed, 1):.1f}%), "
            f"answered {result.surveys_done}")
    if watch.not_placed:
        say(f"  WARNING: {watch.not_placed} calls could not be placed (Asterisk refused the "
            f"originate)")
    for why, count in result.lost.most_common():
        say(f"  WARNING: {count} x {why}")
    for example in result.lost_ids:
        say(f"    e.g. {example}")
    if result.not_three_steps:
        say(f"  WARNING: {result.not_three_steps} calls never reached their third menu step")
    tracebacks, errors, messages = log_findings(serving)
    say(f"engine log: {tracebacks} tracebacks, {errors} ERROR lines, "
        f"{sum(n for m, n in messages.items() if m.startswith('WARNING'))} WARNING lines")
    if tracebacks or errors:
        say(f"WARNING: the engine logged {tracebacks} tracebacks and {errors} ERROR lines")
    for message, count in messages.most_common(10):
        say(f"  {count} x {message}")
    figures.json = {
        "calls": calls,
        "engine_cpu_ms_per_call": round(whole, 2),
        "redis_commands_per_call": round(sent, 1),
        "redis_commands_run_per_call": None if commands_per_call is None
        else round(commands_per_call, 1),
        "lost_calls": lost,
        "cpu_ms_per_call_range": [round(min(parts), 2), round(max(parts), 2)],
        "cpu_ms_per_call_median_of_slices": round(statistics.median(parts), 2),
        "idle_cpu_ms_per_s": round(idle_ms_s, 2),
        "engine_rss_mb": [round(marks[0].rss, 1), round(marks[-1].rss, 1)],
        "tracebacks": tracebacks,
        "error_lines": errors,
        "concurrent": args.concurrent,
        "window_s": round(seconds, 1),
    }
    if watch.cut_short:
        figures.json["cut_short"] = watch.cut_short
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=500, help="calls measured (the window)")
    parser.add_argument("--concurrent", type=int, default=15, help="callers on the line at once")
    parser.add_argument("--warm-up", type=int, default=30, help="calls ended before the window")
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds the idle engine is measured before any call")
    parser.add_argument("--monitor", type=Path,
                        help="record the window with Redis MONITOR into FILE, and break the "
                             "commands down by key family")
    parser.add_argument("--logs", type=Path, help="keep the engine's log in this directory")
    parser.add_argument("--instance", default="bench-cpu", help="sandbox instance name")
    parser.add_argument("--rtp-start", type=int, default=46000 + 2 * (os.getpid() % 1500))
    parser.add_argument("--lanes", type=int, default=0, metavar="N",
                        help="N pairs of passes, the Redis lane off then on, side by side "
                             "(the last JSON line adds both sides' figures)")
    args = parser.parse_args()
    if args.calls < 1 or args.warm_up < 1 or args.concurrent < 1:
        parser.error("--calls, --warm-up and --concurrent must be at least 1")
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    # With --lanes N: 2N passes on one sandbox, the Redis lane off then on, in turn, so
    # that the machine's drift falls on both alike; each pass has a fresh Redis.
    lanes = [True] if not args.lanes else [False, True] * args.lanes
    passes: list[tuple[bool, Figures]] = []
    try:
        with sandbox.owned(args.instance, args.rtp_start) as box:
            for lane in lanes:
                with LocalRedis() as server, \
                        tempfile.TemporaryDirectory(prefix="bench-cpu-") as scratch:
                    print(f"sandbox '{box.name}' up (AMI {box.ami.port}), redis on "
                          f"{server.port}; Redis lane {'on' if lane else 'off'}; "
                          f"{args.concurrent} callers at once, {args.warm_up} warm-up "
                          f"calls, {args.calls} measured", flush=True)
                    passes.append((lane, asyncio.run(run(box, server, args, Path(scratch),
                                                         lane))))
                if len(lanes) > 1:
                    print("\n".join(passes[-1][1].lines))
                    print(json.dumps(passes[-1][1].json), flush=True)
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"interrupted after {time.monotonic() - began:.0f}s; the sandbox and Redis "
              "are stopped", file=sys.stderr)
        sys.exit(130)
    figures = passes[-1][1]
    if len(lanes) == 1:
        print("\n".join(figures.lines))
    else:
        figures.json.update(lane_comparison(passes))
    print(f"done in {time.monotonic() - began:.0f}s")
    print(json.dumps(figures.json))


def lane_comparison(passes: list[tuple[bool, Figures]]) -> dict[str, object]:
    """The lane's passes against the others': the median and range of each side's CPU
    per call, and the ratio of the medians (off over on: above 1, the lane saves)."""
    def cpu(on: bool) -> list[float]:
        return [float(f.json["engine_cpu_ms_per_call"])  # type: ignore[arg-type]
                for lane, f in passes
                if lane is on and f.json.get("engine_cpu_ms_per_call") is not None]
    on, off = cpu(True), cpu(False)
    if not on or not off:
        return {"lane_comparison": "a pass measured no call"}
    print(f"Redis lane on:  {', '.join(f'{x:.2f}' for x in on)} ms/call, "
          f"median {statistics.median(on):.2f}")
    print(f"Redis lane off: {', '.join(f'{x:.2f}' for x in off)} ms/call, "
          f"median {statistics.median(off):.2f}")
    return {"lane_on_ms_per_call": [statistics.median(on), min(on), max(on)],
            "lane_off_ms_per_call": [statistics.median(off), min(off), max(off)],
            "lane_ratio_off_vs_on": round(statistics.median(off) / statistics.median(on), 2)}


if __name__ == "__main__":
    main()

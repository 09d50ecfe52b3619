"""A day that happened, as the simulator's callers: "yesterday's callers under
tomorrow's config". Pure.

The day comes from the engine's own record of each caller's time in the queues
(`Served`, written as the caller leaves the line for good), or from an Asterisk-format
`queue_log` (the engine's, or app_queue's). What a record cannot say is filled in the
way the data allows, so a replay under the same config gives back the day's figures:
- a caller who hung up had exactly the patience they showed. One who was answered
  would have waited longer: their patience is what they waited plus a draw from the
  queue's patience, taken as exponential with the mean its callers showed (the
  maximum-likelihood estimate with the answered as censored: all waiting time over the
  abandons). With no abandon in a queue, nobody there hangs up;
- a caller never answered talks as long as one of the queue's answered callers did;
- a queue_log writes whole seconds: each time is spread over its second.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from routing.callers import Caller, OnDuty

OUTCOMES = ("answered", "abandoned", "timed_out", "overflowed")


@dataclass(frozen=True, slots=True)
class Served:
    """One caller's time in one queue, as the engine records it when it ends."""

    call_id: str
    queue: str
    tier: str
    arrived: float  # epoch seconds: when the caller first joined a queue
    outcome: str  # one of OUTCOMES
    waited: float  # seconds, up to the answer or leaving
    talk: float = 0.0  # seconds with the agent (answered only)
    agent: str = ""
    ring: float = 0.0  # seconds the answering agent's phone rang
    let_ring: int = 0  # agents who let it ring out first

    def fields(self) -> list[str]:
        """As the stream entry's field, value, ... (the moments are added by Redis)."""
        return ["call", self.call_id, "queue", self.queue, "tier", self.tier,
                "arrived", f"{self.arrived:.3f}", "outcome", self.outcome,
                "waited", f"{self.waited:.3f}", "talk", f"{self.talk:.3f}",
                "agent", self.agent]


def from_record(entry: Mapping[str, str]) -> Served:
    """A stream entry as `Served`; ValueError for one that is not."""
    if entry.get("outcome") not in OUTCOMES:
        raise ValueError(f"unknown outcome {entry.get('outcome')!r}")
    ring = 0.0
    if entry.get("rang") and entry.get("answered"):
        ring = max(0.0, float(entry["answered"]) - float(entry["rang"]))
    return Served(entry["call"], entry["queue"], entry.get("tier") or "normal",
                  float(entry["arrived"]), entry["outcome"], float(entry["waited"]),
                  float(entry.get("talk") or 0.0), entry.get("agent", ""), ring,
                  int(float(entry.get("unanswered") or 0)))


@dataclass
class QueueLogDay:
    served: list[Served]
    # agent, logged in, logged out (epoch seconds; infinite: still logged in at the end)
    duty: list[tuple[str, float, float]]
    skipped: int  # lines that are not a queue_log's


def _agent(field: str) -> str:
    return field.split("/", 1)[1] if "/" in field else field


def from_queue_log(lines: Iterable[str]) -> QueueLogDay:
    """Callers and agents' sessions from `time|call|queue|agent|EVENT|data...` lines.
    A caller who leaves by timeout and enters another queue overflowed; a call's
    RINGNOANSWER lines count the agents who let it ring out."""
    entered: dict[str, tuple[float, str]] = {}  # call -> first arrival, its queue
    rona: defaultdict[str, int] = defaultdict(int)
    ends: dict[str, tuple[str, float, float, float, str]] = {}  # outcome, waited, talk, ring, agent
    rings: dict[str, float] = {}
    logins: dict[str, float] = {}
    duty: list[tuple[str, float, float]] = []
    skipped = 0
    for line in lines:
        parts = line.rstrip("\n").split("|")
        try:
            at, call, queue, agent, event, data = float(parts[0]), parts[1], parts[2], \
                _agent(parts[3]), parts[4], parts[5:]
        except (IndexError, ValueError):
            skipped += 1
            continue
        try:
            if event == "ENTERQUEUE":
                if call in ends and ends[call][0] == "timed_out":
                    ends.pop(call)  # left one queue for another: an overflow
                entered.setdefault(call, (at, queue))
            elif event == "CONNECT":
                rings[call] = float(data[2]) if len(data) > 2 and data[2] else 0.0
            elif event in ("COMPLETECALLER", "COMPLETEAGENT"):
                ends[call] = ("answered", float(data[0]), float(data[1]), rings.get(call, 0.0),
                              agent)
            elif event in ("ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"):
                outcome = "abandoned" if event == "ABANDON" else "timed_out"
                ends[call] = (outcome, float(data[2]), 0.0, 0.0, "")
            elif event == "RINGNOANSWER":
                rona[call] += 1
            elif event == "AGENTLOGIN":
                logins.setdefault(agent, at)
            elif event == "AGENTLOGOFF" and agent in logins:
                duty.append((agent, logins.pop(agent), at))
        except (IndexError, ValueError):
            skipped += 1
    duty += [(agent, since, math.inf) for agent, since in logins.items()]  # still on
    served = []
    jitter = random.Random("queue_log")
    for call, (arrived, queue) in entered.items():
        if call not in ends:
            continue  # still in line when the log ends
        outcome, waited, talk, ring, agent = ends[call]
        # Whole seconds in the file: each time spread over its second.
        served.append(Served(call, queue, "normal", arrived + jitter.random(), outcome,
                             waited + jitter.random(), talk + jitter.random() if talk else 0.0,
                             agent, ring, rona[call]))
    return QueueLogDay(served, duty, skipped)


@dataclass
class Replay:
    callers: list[Caller]
    duty: list[OnDuty]
    start: float  # epoch seconds of the day's first interval
    hours: float
    agents_assumed: bool  # on duty: who answered calls, all day (no sessions known)


def replay(served: Iterable[Served], interval: float, seed: int = 1,
           sessions: Iterable[tuple[str, float, float]] | None = None) -> Replay:
    """The simulator's callers and agents for a recorded day. `sessions`: agents'
    logins and logouts (epoch seconds); without them, every agent who answered a call
    is taken as on duty all day, until the floor is empty."""
    by_call: dict[str, list[Served]] = defaultdict(list)
    for record in served:
        by_call[record.call_id].append(record)
    finals = {call: next((r for r in reversed(rs) if r.outcome != "overflowed"), rs[-1])
              for call, rs in by_call.items()}
    if not finals:
        raise ValueError("no caller in the records")
    rng = random.Random(f"{seed}:replay")
    talks: defaultdict[str, list[float]] = defaultdict(list)
    waits: defaultdict[str, float] = defaultdict(float)
    abandons: defaultdict[str, int] = defaultdict(int)
    for record in finals.values():
        if record.outcome == "answered":
            talks[record.queue].append(record.talk)
        waits[record.queue] += record.waited
        abandons[record.queue] += record.outcome == "abandoned"
    everyone = [t for queue_talks in talks.values() for t in queue_talks]
    if not everyone:
        raise ValueError("no caller in the records was answered: no talk time to go by")
    start = min(r.arrived for r in finals.values()) // interval * interval
    callers = []
    for call, rs in sorted(by_call.items(), key=lambda kv: finals[kv[0]].arrived):
        last, first_queue = finals[call], rs[0].queue
        if last.outcome == "abandoned":
            patience = last.waited
        elif abandons[last.queue]:
            patience = last.waited + rng.expovariate(abandons[last.queue] / waits[last.queue])
        else:
            patience = math.inf
        talk = last.talk if last.outcome == "answered" else \
            rng.choice(talks.get(last.queue) or everyone)
        callers.append(Caller(call, first_queue, last.arrived - start, last.tier, talk,
                              patience, last.ring, last.let_ring))
    end = max(c.arrives for c in callers) + start
    hours = math.ceil((end - start) / interval + 1e-9) * interval / 3600
    if sessions is not None:
        duty = [OnDuty(agent, max(0.0, since - start), until - start)
                for agent, since, until in sessions if until > start]
        return Replay(callers, [d for d in duty if d.end > d.start], start, hours, False)
    agents = sorted({r.agent for r in finals.values() if r.agent})
    return Replay(callers, [OnDuty(a, 0.0, math.inf) for a in agents], start, hours, True)

"""What the pages show, made from plain data read out of Redis. Pure: the clock and the
config come in, nothing is read here.

A `Floor` is one reading of every agent, every line and today's figures; the wallboard
is rendered from it for every open wallboard at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.model import HotlineConfig
from routing.decide import FreeAgent, WaitingCall, can_serve, line_order, required_proficiency
from routing.stats import ALL_TIERS, QueueFigures

# The states an agent is shown in, in the wallboard's order.
AGENT_STATES = ("ready", "reserved", "ringing", "on_call", "wrap_up", "not_ready",
                "logged_out")
# An agent busy with a call in these states: the desk pops the caller's details.
WITH_A_CALL = ("reserved", "ringing", "on_call", "wrap_up")


@dataclass(frozen=True, slots=True)
class AgentNow:
    agent_id: str
    name: str
    state: str
    since: float  # when they entered the state (0: never moved)
    reason: str = ""  # why not ready
    call_id: str = ""  # the call they are reserved for, ringing with, on, wrapping up

    @classmethod
    def from_record(cls, agent_id: str, name: str, fields: Mapping[str, str]) -> AgentNow:
        state = fields.get("state", "logged_out")
        return cls(agent_id, name, state, float(fields.get("since") or 0),
                   fields.get("reason", "") if state == "not_ready" else "",
                   fields.get("call", "") if state in WITH_A_CALL else "")


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One queue, or one VIP tier of it (`tier` "all": the queue as a whole)."""

    queue: str
    tier: str
    waiting: int
    longest_since: float | None  # the arrival of the caller waiting longest
    figures: QueueFigures
    target: float  # the service-level target, a share
    answered_within: float  # seconds
    name: str = ""  # the queue's name in the YAML, as supervisors know it
    # The queue's agents (those who can serve it, every relax step reached) by state;
    # on the queue's row only, not its tiers'.
    agents: dict[str, int] = field(default_factory=dict)

    @property
    def below_target(self) -> bool:
        sl = self.figures.service_level
        return sl is not None and sl < self.target


@dataclass(frozen=True, slots=True)
class Waiter:
    call_id: str
    queue: str
    tier: str
    position: int  # 1: next in their queue's line
    arrived_at: float


@dataclass(frozen=True, slots=True)
class Minute:
    """One minute of the wallboard's last hour (`web.chart`)."""

    minute: int  # minutes since the epoch
    service_level: float | None  # None: nothing answered in it, or no note to compare
    waiting: int | None  # None: no note


@dataclass(frozen=True, slots=True)
class Floor:
    rows: list[QueueRow]
    agents: list[AgentNow]
    waiters: list[Waiter]
    states: dict[str, int] = field(default_factory=dict)  # agents per state
    hour: list[Minute] = field(default_factory=list)  # the last hour, oldest first


def floor(config: HotlineConfig, agents: Mapping[str, Mapping[str, str]],
          lines: Mapping[str, list[WaitingCall]],
          figures: Mapping[tuple[str, str], QueueFigures], now: float) -> Floor:
    """`agents`: each configured agent's record; `lines`: the callers waiting per queue;
    `figures`: today's, per (queue, tier), tier "all" included. A waiting caller's
    position is their place in the line's order at `now` (VIP tiers first)."""
    tiers = list(config.vip.tiers)
    rows, waiters = [], []
    on_floor = [AgentNow.from_record(agent_id, agent.name, agents.get(agent_id, {}))
                for agent_id, agent in config.agents.items()]
    for name, rules in config.queues.items():
        line = lines.get(name, [])
        widest = required_proficiency(rules, float("inf"))
        serving = Counter(a.state for a in on_floor if a.state != "logged_out" and can_serve(
            FreeAgent(a.agent_id, config.agents[a.agent_id].skills, 0.0), widest))
        for tier in [ALL_TIERS, *tiers]:
            in_tier = line if tier == ALL_TIERS else [c for c in line if c.tier == tier]
            shown = figures.get((name, tier), QueueFigures())
            if tier != ALL_TIERS and not in_tier and not shown.offered:
                continue  # a tier with nobody today would only add empty rows
            rows.append(QueueRow(name, tier, len(in_tier),
                                 min((c.arrived_at for c in in_tier), default=None), shown,
                                 rules.service_level.target,
                                 rules.service_level.answered_within, rules.name,
                                 dict(serving) if tier == ALL_TIERS else {}))
        waiters += [Waiter(c.call_id, name, c.tier, n, c.arrived_at)
                    for n, c in enumerate(line_order(line, config.vip, now), 1)]
    states = Counter(a.state for a in on_floor)
    waiters.sort(key=lambda w: w.arrived_at)
    return Floor(rows, on_floor, waiters, {s: states.get(s, 0) for s in AGENT_STATES})


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """What the agent's screen shows of the caller while the phone rings and after."""

    call_id: str
    number: str
    name: str
    tier: str
    menu_path: str
    queue: str
    arrived_at: float
    answered_at: float | None
    account: Mapping[str, str] | None  # the billing backend's account, None: not known
    history: list[Mapping[str, str]]  # the caller's last calls, newest first
    disposition: str = ""  # what the agent recorded the call as, once they did
    disposition_note: str = ""

    def waited(self, now: float) -> float:
        return max(0.0, (self.answered_at or now) - self.arrived_at)


def screen_pop(call_id: str, routed: Mapping[str, str], opened: Mapping[str, str],
               account: Mapping[str, str] | None,
               history: list[Mapping[str, str]]) -> ScreenPop:
    """`routed`: the call's routing record; `opened`: its call record (the caller's
    name as the network gave it); `account`: the billing account of the number."""
    answered = routed.get("answered_at")
    return ScreenPop(call_id, routed.get("number") or opened.get("caller_number", ""),
                     opened.get("caller_name", ""), routed.get("tier", "normal"),
                     routed.get("menu_path", ""), routed.get("queue", ""),
                     float(routed.get("arrived_at") or 0),
                     float(answered) if answered else None, account, history,
                     routed.get("disposition", ""), routed.get("disposition_note", ""))

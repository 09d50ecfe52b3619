"""Erlang C: the textbook answer for one queue, one skill, first come first served, and
callers who never hang up (M/M/c). The simulator (`routing.simulation`) is checked
against it, and staffing starts from it. Pure.

The formulas are the standard ones, e.g. Gans, Koole and Mandelbaum, "Telephone Call
Centers: Tutorial, Review, and Research Prospects" (2003), section 4.1:
- P(wait) = C(c, A) = (A^c / c!) * c / (c - A) / (sum_{k<c} A^k / k! + A^c / c! * c / (c - A));
- P(wait <= t) = 1 - C(c, A) * exp(-(c - A) * t / AHT);
- ASA = C(c, A) * AHT / (c - A).
The sums are computed as the Erlang B recursion, which stays exact for hundreds of agents
where the factorials would overflow.
"""

from __future__ import annotations

import math


def erlang_b(agents: int, erlangs: float) -> float:
    """The blocking probability of `agents` servers offered `erlangs` of traffic."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = erlangs * blocking / (k + erlangs * blocking)
    return blocking


def erlang_c(agents: int, erlangs: float) -> float:
    """The probability that a caller waits at all; 1.0 when the agents cannot keep up."""
    if agents <= erlangs:
        return 1.0
    b = erlang_b(agents, erlangs)
    return agents * b / (agents - erlangs * (1 - b))


def service_level(agents: int, erlangs: float, handle_time: float, within: float) -> float:
    """The share of callers answered within `within` seconds."""
    if agents <= erlangs:
        return 0.0
    return 1 - erlang_c(agents, erlangs) * math.exp(-(agents - erlangs) * within / handle_time)


def average_speed_of_answer(agents: int, erlangs: float, handle_time: float) -> float:
    if agents <= erlangs:
        return math.inf
    return erlang_c(agents, erlangs) * handle_time / (agents - erlangs)


def agents_needed(erlangs: float, handle_time: float, target: float, within: float) -> int:
    """The fewest agents for `target` (a share) answered within `within` seconds."""
    agents = max(1, math.floor(erlangs) + 1)
    while service_level(agents, erlangs, handle_time, within) < target:
        agents += 1
    return agents

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


def erlang_a(agents: int, erlangs: float, handle_time: float, patience: float,
             within: float) -> tuple[float, float]:
    """Erlang A (Palm's M/M/c+M: callers hang up after an exponential patience of mean
    `patience` seconds): the share of the answered answered within `within` seconds
    (app_queue's SL, as `routing.stats` counts it), and the share who hang up.

    The model and its stationary law are those of Garnett, Mandelbaum and Reiman,
    "Designing a Call Center with Impatient Customers" (2002), section 2: the number in
    the system is a birth-death chain with birth rate lambda, and death rate
    n * mu up to c, then c * mu + (n - c) * theta. An arriving caller who finds j
    waiting ahead moves up as one of them is answered or hangs up (rate c * mu + j *
    theta), and hangs up themself at rate theta; the law of their wait comes from that
    chain by uniformization (Gross and Harris, Fundamentals of Queueing Theory, 4th ed.,
    section 9.1.1). Everything is computed here, with no table."""
    if agents == 0:
        return 0.0, 1.0  # nobody to answer: every caller hangs up
    mu, theta = 1 / handle_time, 1 / patience
    arrival = erlangs * mu
    # The stationary law, unnormalised, until its terms no longer matter.
    weights = [1.0]
    for n in range(1, agents + 1):
        weights.append(weights[-1] * erlangs / n)
    n, total = agents, sum(weights)
    while weights[-1] > 1e-16 * total or n < agents + 10:
        n += 1
        weights.append(weights[-1] * arrival / (agents * mu + (n - agents) * theta))
        total += weights[-1]
    law = [w / total for w in weights]
    waiting = law[agents:]  # an arrival finds j = 0, 1, ... callers waiting ahead
    queue_length = sum(j * p for j, p in enumerate(law[agents + 1:], 1))
    abandoned = theta * queue_length / arrival
    # The tagged caller's chain: j ahead -> j - 1, or hangs up; from 0, answered.
    ahead = len(waiting)
    leave = [agents * mu + j * theta for j in range(ahead)]
    fastest = max(leave) + theta
    state, answered = list(waiting), 0.0
    poisson = math.exp(-fastest * within)  # uniformization: P(k jumps by `within`)
    cumulative, k = poisson, 0
    in_time = sum(law[:agents]) + answered * poisson
    while cumulative < 1 - 1e-12 and k < 100_000:
        moved = [0.0] * ahead
        answered += state[0] * agents * mu / fastest
        for j in range(ahead):
            stay = 1 - (leave[j] + theta) / fastest
            moved[j] += state[j] * stay
            if j:
                moved[j - 1] += state[j] * leave[j] / fastest
        state = moved
        k += 1
        poisson *= fastest * within / k
        cumulative += poisson
        in_time += answered * poisson
    served = 1 - abandoned
    return in_time / served, abandoned

"""Accounts of the people who use the web side, and what each role may do. Pure: the
store (`web.account_store`) keeps them, this module decides.

Passwords are hashed with scrypt and a salt of their own; the hash says its parameters,
so they can be raised later without locking anyone out.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


# scrypt's cost: 16 MiB and about 50 ms a hash on one core, slow enough that a stolen
# hash is not worth guessing at, fast enough for a login.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")
MIN_PASSWORD = 10


class AccountError(ValueError):
    """A request about an account that cannot be carried out, said for the person."""


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    role: Role
    # The agent (the routing YAML's id) this account is, for the agent role.
    agent_id: str = ""
    disabled: bool = False
    name: str = ""
    # The supervisor's own phone, which rings when they listen in (a dial string).
    phone: str = ""


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise AccountError(f"'{username}' is not a username: use 1 to 32 lower-case "
                           "letters, digits, '.', '_' or '-', starting with a letter or digit")
    return username


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash`, salt and hash in hex."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, maxmem=64 * 1024 * 1024, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n),
                             r=int(r), p=int(p), maxmem=64 * 1024 * 1024,
                             dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False  # a damaged hash lets nobody in
    return hmac.compare_digest(got.hex(), digest)


# A hash checked when the username is unknown, so that a login takes as long for a
# name that does not exist as for a wrong password (no telling names apart by time).
DECOY_HASH = hash_password("no such account", salt=b"\0" * 16)


def may_see_agent(who: Account, agent_id: str) -> bool:
    """An agent sees and moves only themself; supervisors and admins see everyone."""
    if who.role is Role.AGENT:
        return bool(who.agent_id) and who.agent_id == agent_id
    return True


def may_watch_floor(who: Account) -> bool:
    """The wallboard, every agent's state and every queue's figures."""
    return who.role in (Role.SUPERVISOR, Role.ADMIN)


def may_activate(who: Account, supervisors_may: bool) -> bool:
    """Make a routing version live, or roll back: admins, and supervisors when the live
    YAML says so."""
    return who.role is Role.ADMIN or (who.role is Role.SUPERVISOR and supervisors_may)


def may_listen_in(who: Account) -> bool:
    """Listen to a live call, whisper to its agent, barge in."""
    return who.role in (Role.SUPERVISOR, Role.ADMIN)


def may_force(who: Account) -> bool:
    """Force another agent not ready or logged out."""
    return who.role in (Role.SUPERVISOR, Role.ADMIN)


# What the desk's and the wallboard's buttons ask for, as the agent's moves.
WEB_MOVES = {"log_in": "log_in", "log_out": "log_out", "ready": "go_ready",
             "not_ready": "go_not_ready", "wrap_up_done": "wrap_up_done"}
# What a supervisor may force on an agent: out of the matching, never into it.
FORCED = ("not_ready", "log_out")


@dataclass(frozen=True, slots=True)
class MoveAsked:
    move: str  # an `agents.state.Move` value
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MoveDenied:
    status: int  # 403 not theirs to ask, 400 a request that means nothing
    why: str


def move_asked(who: Account, agent_id: str, button: str, reason_code: str,
               reasons: dict[str, str], known_agent: bool) -> MoveAsked | MoveDenied:
    """The move a web button asks for an agent, or why it is refused. An agent moves
    only themself, as from their phone's keys; a supervisor forces others not ready or
    logged out, with a reason (which the audit keeps)."""
    if not known_agent:
        return MoveDenied(404, f"there is no agent {agent_id}")
    if button not in WEB_MOVES:
        return MoveDenied(400, f"'{button}' is no move")
    own = who.role is Role.AGENT and who.agent_id == agent_id
    if not own:
        if not may_force(who):
            return MoveDenied(403, "an agent changes only their own state")
        if button not in FORCED:
            return MoveDenied(403, "a supervisor can take an agent out of the matching "
                                   "(not ready, log out), never put them in it")
    reason = ""
    if button == "not_ready" or (not own and button == "log_out"):
        reason = reasons.get(reason_code, "")
        if not reason:
            listed = ", ".join(f"{c} {r}" for c, r in sorted(reasons.items()))
            return MoveDenied(400, f"choose a reason ({listed})")
    if not own:
        reason = f"{reason} (by {who.username})"
    return MoveAsked(WEB_MOVES[button], reason)

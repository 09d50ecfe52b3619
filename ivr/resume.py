"""Where a caller resumes when an engine takes the call over from one that died.

Decided from what outlives the engine: what the dialplan said the call is (its AGI
arguments), the call's state in the queues, and the call's journal, whose marks name
the menu node the caller last reached (`ivr.menu.AT_NODE`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ivr.menu import AT_NODE
from pbx.ports import JOURNAL_MARK


class Resume(StrEnum):
    MENU = "menu"  # at `node`, in `language`: the node is asked again from its start
    WAIT = "wait"  # in line, at the caller's place (a ring that ended counts as waiting)
    SURVEY = "survey"  # the satisfaction survey about `about`, from its first question
    FINISHED = "finished"  # the conversation with an agent is over: the call ends
    FEATURE_CODE = "feature_code"  # an agent's feature code, cut short: dial it again
    START = "start"  # nothing says where: the hotline's own start


@dataclass(frozen=True, slots=True)
class ResumeAt:
    how: Resume
    node: str = ""
    language: str = ""
    about: str = ""
    muted: bool = False  # the recording was muted for a secret: unmute it first


@dataclass(frozen=True, slots=True)
class InMenus:
    node: str = ""  # the menu node the caller last reached ("": none)
    language: str = ""
    muted: bool = False  # the recording is muted: the caller is typing a secret


def where_in_menus(journal: Iterable[str]) -> InMenus:
    """Where the journal (its commands, in order) last saw the caller in the menus."""
    node = language = ""
    muted = False
    for command in journal:
        if command.startswith(f"{JOURNAL_MARK} {AT_NODE} "):
            _, _, node, *rest = command.split(" ")
            language = rest[0] if rest else ""
        elif command == "RECORDING MUTED":
            muted = True
        elif command == "RECORDING RESUMED":
            muted = False
    return InMenus(node, language, muted)


def resume_at(entry: str, queue_state: str, journal: Iterable[str]) -> ResumeAt:
    """`entry`: the call's AGI arguments; `queue_state`: its state in the queues ("" when
    it never joined one); `journal`: the commands of its journal, in order."""
    where = where_in_menus(journal)
    node, language, muted = where.node, where.language, where.muted
    kind, _, argument = entry.partition(" ")
    if kind == "agent":
        return ResumeAt(Resume.FEATURE_CODE)
    if kind == "survey":
        return ResumeAt(Resume.SURVEY, about=argument.split(" ")[0])
    if queue_state in ("waiting", "offered"):
        return ResumeAt(Resume.WAIT, muted=muted)
    if queue_state in ("connected", "ended"):
        return ResumeAt(Resume.FINISHED, muted=muted)
    if node:
        return ResumeAt(Resume.MENU, node=node, language=language, muted=muted)
    return ResumeAt(Resume.START, muted=muted)

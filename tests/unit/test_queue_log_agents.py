"""Agents' sessions and pauses in the `queue_log`, as app_queue writes them, so tools
built for it (QueueMetrics and the like) see logins and breaks."""

from __future__ import annotations

import asyncio
from pathlib import Path

from agents.state import AgentState, Move
from hotline.queues.queue_log import QueueLog, agent_event
from hotline.runtime.supervisor import Supervisor


def test_each_agent_move_is_the_event_app_queue_writes() -> None:
    phone = "PJSIP/agent-1001"
    assert agent_event(Move.LOG_IN, AgentState.NOT_READY, "", phone) == (
        "AGENTLOGIN", (phone,))
    assert agent_event(Move.LOG_OUT, AgentState.LOGGED_OUT, "", phone) == (
        "AGENTLOGOFF", (phone, 0))
    assert agent_event(Move.GO_NOT_READY, AgentState.NOT_READY, "lunch", phone) == (
        "PAUSEALL", ("lunch",))
    assert agent_event(Move.NO_ANSWER, AgentState.NOT_READY, "no answer", phone) == (
        "PAUSEALL", ("no answer",))
    assert agent_event(Move.GO_READY, AgentState.READY, "", phone) == ("UNPAUSEALL", ())
    # The moves of a call have events of their own.
    assert agent_event(Move.ANSWER, AgentState.ON_CALL, "", phone) is None
    assert agent_event(Move.WRAP_UP_DONE, AgentState.READY, "", phone) is None


async def test_lines_reach_the_file_in_order(tmp_path: Path) -> None:
    supervisor = Supervisor()
    log = QueueLog(tmp_path / "queue_log", lambda: 1796000000.0, supervisor)
    log.write("", "", "1001", "AGENTLOGIN", "PJSIP/agent-1001")
    log.write("", "", "1001", "PAUSEALL", "lunch|break")
    await log.flushed()
    await asyncio.sleep(0)
    assert (tmp_path / "queue_log").read_text().splitlines() == [
        "1796000000|NONE|NONE|Agent/1001|AGENTLOGIN|PJSIP/agent-1001",
        "1796000000|NONE|NONE|Agent/1001|PAUSEALL|lunch/break"]
    await supervisor.stop()

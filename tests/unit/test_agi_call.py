"""Pairing AGI commands with their results, and failing them when the line is lost."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from pbx.agi import AgiResult
from pbx.agi_call import AgiCalls
from pbx.ami import AmiActionFailed, AmiResponse
from pbx.ports import Call, CallGone

CALL = Call(call_id="c-1", channel="PJSIP/trunk-1", caller_number="1380", caller_name="",
            dialled_number="10000")


class AcceptingAmi:
    """Stands in for the connection: every action is accepted, nothing else happens."""

    id_prefix = "t"

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail_with = fail_with

    async def send_action(self, fields: dict[str, Any], **_: Any) -> AmiResponse:
        self.sent.append(dict(fields))
        if self.fail_with:
            raise self.fail_with
        return AmiResponse({"Response": "Success"})


async def started(calls: AgiCalls, line: str) -> tuple[asyncio.Task[AgiResult], str]:
    task = asyncio.ensure_future(calls.calls[CALL.channel].run(line))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return task, calls.ami.sent[-1]["CommandID"]  # type: ignore[attr-defined]


async def test_a_result_reaches_the_command_with_the_same_id() -> None:
    calls = AgiCalls(AcceptingAmi())  # type: ignore[arg-type]
    calls.open(CALL)
    first, first_id = await started(calls, "GET DATA hello 5000 1")
    second, second_id = await started(calls, "SAY DIGITS 1 \"\"")
    calls.command_finished(second_id, AgiResult(200, "0"))
    calls.command_finished(first_id, AgiResult(200, "25"))
    assert (await first).result == "25"
    assert (await second).result == "0"
    assert not calls.commands


async def test_hangup_fails_the_pending_command_at_once() -> None:
    calls = AgiCalls(AcceptingAmi())  # type: ignore[arg-type]
    calls.open(CALL)
    task, _ = await started(calls, "GET DATA hello 5000 1")
    calls.channel_gone(CALL.channel, "hung up")
    with pytest.raises(CallGone, match="hung up"):
        await asyncio.wait_for(task, 1)
    with pytest.raises(CallGone):  # and every later command on that line
        await calls.calls[CALL.channel].run("HANGUP")
    assert not calls.commands


async def test_losing_ami_fails_every_line() -> None:
    calls = AgiCalls(AcceptingAmi())  # type: ignore[arg-type]
    calls.open(CALL)
    task, _ = await started(calls, "STREAM FILE hello \"\"")
    calls.everything_gone("lost Asterisk")
    with pytest.raises(CallGone, match="lost Asterisk"):
        await asyncio.wait_for(task, 1)


async def test_a_refused_agi_action_means_the_caller_left() -> None:
    calls = AgiCalls(AcceptingAmi(AmiActionFailed("AGI", "Channel does not exist.")))  # type: ignore[arg-type]
    line = calls.open(CALL)
    with pytest.raises(CallGone, match="does not exist"):
        await asyncio.wait_for(line.run("HANGUP"), 1)


async def test_minus_one_is_a_hangup() -> None:
    calls = AgiCalls(AcceptingAmi())  # type: ignore[arg-type]
    calls.open(CALL)
    task, command_id = await started(calls, "GET DATA hello 5000 1")
    calls.command_finished(command_id, AgiResult(200, "-1"))
    with pytest.raises(CallGone):
        await task

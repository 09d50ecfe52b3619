"""Adoption: callers left in AGI by an engine that died are taken over, each by exactly
one live engine, and resumed where they were (`ivr.resume`).

It runs at every AMI login (a fresh start finds the calls of its dead predecessor, a
reconnect finds its own), when a peer's lease lapses, and when this engine finds its
own lease lapsed. Asterisk's channel list says who is still in AGI; Redis says who owns
each call. Calls that are not in AGI need no adoption: a ring or a conversation ends
with events that every engine acts on, and a caller who comes back into AGI is taken
over by the engine that sees them arrive (`CallSessions`).

An adopted caller is sent into AGI afresh (`hotline-resume`): that ends whatever the
dead engine left running on the channel, and the session that starts there resumes
them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from redis.exceptions import RedisError

from hotline.calls.records import CallLog
from hotline.calls.sessions import CallSessions
from hotline.runtime.lease import RENEW_EVERY, EngineLease
from hotline.runtime.supervisor import Supervisor
from pbx.ami import AmiConnection, AmiError, ConnectionState
from pbx.ports import Call

log = logging.getLogger(__name__)

CONNECT_CONTEXT = "hotline-connect"  # a caller back here had a ring end
RESUME_CONTEXT = "hotline-resume"  # AGI(agi:async,resume): see extensions.conf


def entry_from_channel(item: dict[str, str], survey_about: str = "") -> str:
    """What the dialplan said a call is, for a call no engine ever opened (its start
    came while no engine listened), read from where the channel is."""
    context = item.get("Context", "")
    if context == "hotline-survey":
        return f"survey {survey_about}"
    if context == "hotline-agents":
        return f"agent {item.get('Channel', '')} {item.get('Exten', '')}"
    if context == CONNECT_CONTEXT:
        return "returned"
    return ""


class Adoption:
    def __init__(self, ami: AmiConnection, call_log: CallLog, sessions: CallSessions,
                 lease: EngineLease, supervisor: Supervisor,
                 leftovers: Sequence[Callable[[], Awaitable[object]]] = ()) -> None:
        """`leftovers`: what else looks after the calls whose end no engine stored (the
        reconciliation, the recording sweep), as at a login: when a peer's lease lapses,
        and when Redis is back after an outage (the hangups it missed)."""
        self.ami = ami
        self.leftovers = leftovers
        self.call_log = call_log
        self.sessions = sessions
        self.lease = lease
        self.supervisor = supervisor
        self._redis_down = False
        self.adopted = 0

    def start(self) -> None:
        self.supervisor.every("the engine's lease", RENEW_EVERY, self._round)

    async def _round(self) -> None:
        try:
            held, lapsed = await self.lease.renew_and_look()
            if not held:
                await self._lease_lost()
            elif lapsed and \
                    await self.adopt(f"engine(s) {', '.join(lapsed)} gone") is not None \
                    and await self._leftovers():
                for peer in lapsed:  # all looked after: otherwise, again next round
                    await self.lease.forget(peer)
        except RedisError as exc:
            # Logged once an outage: the menus go on without Redis, and the lease is
            # checked again every round.
            if not self._redis_down:
                log.error("engine lease not renewed: Redis unavailable (%s)", exc)
            self._redis_down = True
            return
        if self._redis_down:
            log.warning("Redis is back: engine lease renewed; looking after the calls "
                        "that ended during the outage")
            self._redis_down = False
            await self._leftovers()

    async def _leftovers(self) -> bool:
        """False when they could not all be looked after now (done at the next login)."""
        if self.ami.state is not ConnectionState.UP:
            return False
        for also in self.leftovers:
            try:
                await also()
            except (AmiError, RedisError) as exc:
                log.warning("looking after ended calls failed: %s", exc)
                return False
        return True

    async def _lease_lost(self) -> None:
        # The same id again: a call no peer took over is still ours (its owner says
        # so), and each one a peer took is the peer's alone.
        await self.lease.take()
        dropped = await self.sessions.let_go_of_taken()
        # Alone, or after a Redis failover, nothing was taken: worth a warning only.
        log.log(logging.ERROR if dropped else logging.WARNING,
                "this engine's lease %s had lapsed (frozen, or cut off from Redis too "
                "long): %d call(s) taken over by peers were let go", self.lease.instance_id,
                dropped)
        await self.adopt("own lease lapsed")

    async def adopt(self, why: str) -> int | None:
        """Take over every caller in AGI whose engine is gone; returns how many, or None
        when Asterisk could not be asked."""
        if self.ami.state is not ConnectionState.UP:
            return None
        try:
            response = await self.ami.send_action({"Action": "CoreShowChannels"})
        except AmiError as exc:
            log.warning("adoption (%s) could not list Asterisk's channels: %s", why, exc)
            return None
        adopted = 0
        for item in response.events:
            channel = item.get("Channel", "")
            if item.get("Application") != "AGI" or self.sessions.serving(channel):
                continue
            if await self._take(item):
                try:
                    # Into AGI afresh: whatever the dead engine left running ends, and
                    # the session that starts there resumes the caller.
                    await self.ami.send_action({"Action": "Redirect", "Channel": channel,
                                                "Context": RESUME_CONTEXT, "Exten": "s",
                                                "Priority": 1})
                except AmiError as exc:  # hung up meanwhile
                    log.info("call %s not resumed: %s", item.get("Uniqueid"), exc)
                    continue
                adopted += 1
        if adopted:
            self.adopted += adopted
            log.warning("adopted %d call(s) left in AGI (%s)", adopted, why)
        return adopted

    async def _take(self, item: dict[str, str]) -> bool:
        """Whether the call of this channel is now this engine's to resume; False when
        it is not ours to take (a live peer serves it, or another engine was first)."""
        call_id, me = item.get("Uniqueid", ""), self.lease.instance_id
        owner = await self.call_log.owner(call_id)
        if owner == me:
            # Our own session ended as the list was read, or our sessions were cut
            # off with the AMI connection (the record stays open), or the caller came
            # back from a ring while the connection was down.
            record = await self.call_log.record(call_id)
            return bool(record.get("open")) or item.get("Context") == CONNECT_CONTEXT
        if not await self.lease.is_dead(owner):
            return False  # a live peer serves it
        if owner is not None:
            return await self.call_log.take_over(call_id, owner, me)
        # It came into AGI while no engine listened: opened now, from what the
        # channel list says.
        log.warning("call %s came into AGI while no engine listened", call_id)
        call = Call(call_id=call_id, channel=item.get("Channel", ""),
                    caller_number=item.get("CallerIDNum", ""),
                    caller_name=item.get("CallerIDName", ""),
                    dialled_number=item.get("Exten", ""))
        entry = entry_from_channel(item, await self._survey_about(item))
        return await self.call_log.claim_and_open(call, me, entry) is None

    async def _survey_about(self, item: dict[str, str]) -> str:
        if item.get("Context") != "hotline-survey":
            return ""
        try:
            got = await self.ami.send_action({"Action": "Getvar", "Channel": item["Channel"],
                                              "Variable": "HOTLINE_SURVEY"})
        except AmiError:
            return ""
        return got.fields.get("Value", "")

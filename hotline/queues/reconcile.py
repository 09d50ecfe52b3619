"""The lines and the agents checked against the channels Asterisk really has, at every
AMI login (a start, a restart, a reconnect): a caller who hung up while no engine heard
it leaves the line (an abandon), and an agent reserved for, or talking on, a call that
no longer exists is freed. Without this a ghost caller is matched again and again, and
an agent stays reserved for good. The rules are `routing.policy`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from agents.state import Move, MoveRefused
from config.model import HotlineConfig
from hotline.queues.reporting import QueueReporting
from pbx.ami import AmiConnection
from routing.policy import freeing_move, is_ghost, wrap_up_ends
from routing.store import RoutingStore

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, ami: AmiConnection, store: RoutingStore, report: QueueReporting,
                 config: Callable[[], HotlineConfig], clock: Callable[[], float],
                 wake_matching: Callable[[], None]) -> None:
        self.ami = ami
        self.store = store
        self.report = report
        self.config = config
        self.clock = clock
        self.wake_matching = wake_matching

    async def run(self) -> tuple[int, int]:
        """Returns (callers taken out of line, agents freed)."""
        read_at = self.clock()
        response = await self.ami.send_action({"Action": "CoreShowChannels"})
        live = {item.get("Channel", "") for item in response.events}
        config = self.config()
        gone = freed = 0
        lines = await self.store.view.waiting_in(list(config.queues))  # one round trip
        for queue, calls in lines.items():
            for call in calls:
                fields = await self.store.call(call.call_id)
                if is_ghost(fields.get("channel", ""), call.arrived_at, live, read_at):
                    await self.store.leave(call.call_id, queue)
                    await self.report.abandoned(call.call_id, queue, call.tier,
                                                call.arrived_at)
                    gone += 1
        agents = await self.store.agents_in(list(config.agents))
        for agent_id, agent in agents.items():
            call_id, since = agent.get("call", ""), float(agent.get("since", read_at))
            if agent.get("state") == "wrap_up":
                # Its timer was in an engine that is gone: ended on time, or now.
                if wrap_up_ends(since, config.agents[agent_id].wrap_up) <= read_at:
                    freed += await self._move(agent_id, [Move.WRAP_UP_DONE], call_id)
                continue
            what = freeing_move(agent.get("state", ""))
            if what is None or not call_id:
                continue
            channel = (await self.store.call(call_id)).get("channel", "")
            if is_ghost(channel, since, live, read_at):
                await self.store.advance_call(call_id, "offered", "gone")
                await self.store.advance_call(call_id, "connected", "ended")
                # A conversation nobody heard end needs no wrap-up.
                moves: list[Move] = [what, Move.WRAP_UP_DONE] if what is Move.CALL_ENDED \
                    else [what]
                freed += await self._move(agent_id, moves, call_id)
        if gone or freed:
            log.warning("reconciled with Asterisk: %d caller(s) no longer there left the "
                        "line, %d agent(s) busy with calls that ended were freed", gone, freed)
            self.wake_matching()
        return gone, freed

    async def _move(self, agent_id: str, moves: list[Move], call_id: str) -> int:
        try:
            for what in moves:
                await self.store.apply(agent_id, what, self.clock(), reason="call gone",
                                       call_id=call_id)
        except MoveRefused:  # moved meanwhile: someone else freed them
            return 0
        return 1

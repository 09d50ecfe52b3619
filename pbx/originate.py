"""Placing calls over AMI (callbacks, simulated callers)."""

from __future__ import annotations

import uuid

from pbx.ami import AmiConnection


class AmiOriginator:
    """`Originator` over AMI.

    Every call carries a `ChannelId` chosen before the request is sent, and the AMI
    layer never re-sends an action after a reconnect, so one request rings at most once;
    a caller that retries can first look the id up with `channel_exists`.
    """

    def __init__(self, ami: AmiConnection) -> None:
        self.ami = ami

    async def originate(
        self,
        channel: str,
        *,
        context: str,
        exten: str,
        caller_id: str = "",
        variables: dict[str, str] | None = None,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        timeout: float = 30.0,
    ) -> str:
        channel_id = channel_id or uuid.uuid4().hex
        fields: dict[str, str | int | list[str]] = {
            "Action": "Originate", "Channel": channel, "Context": context, "Exten": exten,
            "Priority": 1, "Async": "true", "Timeout": int(timeout * 1000),
            "ChannelId": channel_id,
        }
        if other_channel_id:
            fields["OtherChannelId"] = other_channel_id
        if caller_id:
            fields["CallerID"] = caller_id
        if variables:
            fields["Variable"] = [f"{name}={value}" for name, value in variables.items()]
        await self.ami.send_action(fields)
        return channel_id

    async def channel_exists(self, unique_id: str) -> bool:
        response = await self.ami.send_action({"Action": "CoreShowChannels"})
        return any(item.get("Uniqueid") == unique_id for item in response.events)

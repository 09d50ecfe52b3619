"""The VIP mix of a traffic file's `caller_numbers`: each number looked up in the live
YAML's billing backend, as the engine looks a caller up when they call."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from config.model import HotlineConfig
from config.queues import TIERS
from config.traffic import Traffic
from hotline.billing.live_backend import Billing
from hotline.runtime.redis_client import connect
from hotline.settings import Settings
from ivr.billing import BillingUnavailable

AT_ONCE = 20  # lookups in flight: enough for a backend's latency, not a flood


class NoNumbers(Exception):
    """The numbers cannot be read or looked up: the words say why."""


def numbers_of(traffic: Traffic, traffic_path: Path) -> list[str]:
    assert traffic.caller_numbers is not None
    path = traffic_path.parent / traffic.caller_numbers
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise NoNumbers(f"caller_numbers: {path}: {exc.strerror}") from exc
    numbers = sorted({line.strip() for line in lines if line.strip()})
    if not numbers:
        raise NoNumbers(f"caller_numbers: {path} has no number")
    return numbers


def with_looked_up_tiers(traffic: Traffic, traffic_path: Path, config: HotlineConfig,
                         settings: Settings) -> tuple[Traffic, str]:
    """The traffic with the numbers' tier mix, and a line saying what was found."""
    numbers = numbers_of(traffic, traffic_path)
    found = asyncio.run(_tiers(numbers, config, settings))
    unanswered = [tier for tier in found.elements() if tier.startswith("!")]
    if unanswered:
        # The engine takes such a caller as normal; a mix built on a backend that is not
        # answering would not be the day's.
        raise NoNumbers(f"caller_numbers: the billing backend did not answer for "
                        f"{len(unanswered)} of {len(numbers)} number(s) "
                        f"({unanswered[0][1:] or 'timeout'})")
    mix = {tier: count / len(numbers) for tier, count in found.items() if tier != "?"}
    unknown = found.get("?", 0)
    if unknown:
        mix["normal"] = mix.get("normal", 0.0) + unknown / len(numbers)
    said = ", ".join(f"{tier} {share:.1%}" for tier, share in sorted(
        mix.items(), key=lambda kv: TIERS.index(kv[0])))
    line = f"tiers of {len(numbers)} caller number(s) from the billing backend: {said}"
    if unknown:
        line += f" ({unknown} not found: normal)"
    return traffic.model_copy(update={"tiers": mix}), line


async def _tiers(numbers: list[str], config: HotlineConfig, settings: Settings
                 ) -> Counter[str]:
    redis = connect(settings.redis_url)
    # Account lookups hash nothing: the billing secret is not needed to find a number.
    backend = Billing(redis, settings.key_prefix, settings.secret_key or b"-",
                      time.time).backend(config)
    gate = asyncio.Semaphore(AT_ONCE)

    async def tier(number: str) -> str:
        async with gate:
            try:
                async with asyncio.timeout(config.backends.billing.timeout):
                    account = await backend.account(number)
            except (TimeoutError, BillingUnavailable) as exc:
                return f"!{exc}"
        if account is None:
            return "?"
        return account.tier if account.tier in TIERS else "normal"

    try:
        return Counter(await asyncio.gather(*(tier(n) for n in numbers)))
    finally:
        await redis.aclose()

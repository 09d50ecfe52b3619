"""Choosing the billing backend the live config names, and keeping it across versions."""

from __future__ import annotations

from collections.abc import Callable

from redis.asyncio import Redis

from config import model
from hotline.billing.http import http_billing
from hotline.billing.redis_store import RedisBilling
from ivr.billing import BillingBackend


class Billing:
    def __init__(self, redis: Redis, prefix: str, secret: bytes,
                 clock: Callable[[], float]) -> None:
        self.redis = redis
        self.prefix = prefix
        self.secret = secret
        self.clock = clock
        self._current: tuple[object, BillingBackend] | None = None

    def backend(self, config: model.HotlineConfig) -> BillingBackend:
        """The backend for this config version; the same object while its settings do
        not change, so a circuit breaker keeps its memory across versions."""
        wanted = config.backends.billing
        if self._current is not None and self._current[0] == wanted:
            return self._current[1]
        backend: BillingBackend
        if isinstance(wanted, model.HttpBilling):
            backend = http_billing(str(wanted.url), wanted.timeout, wanted.failures_to_open,
                                   wanted.open_for)
        else:
            backend = RedisBilling(self.redis, self.prefix, self.secret,
                                   pin_attempts=wanted.pin_attempts,
                                   lock_seconds=int(wanted.lock_for), clock=self.clock)
        self._current = (wanted, backend)
        return backend

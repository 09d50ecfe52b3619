"""Choosing the billing backend the live config names, and keeping it across versions."""

from __future__ import annotations

import logging
import os

from redis.asyncio import Redis

from config import model
from hotline.billing.http import http_billing
from hotline.billing.redis_store import RedisBilling
from hotline.settings import Settings
from ivr.billing import BillingBackend

log = logging.getLogger(__name__)


class Billing:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self._current: tuple[object, BillingBackend] | None = None
        self._secret = settings.secret_key or self._development_key()

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
            backend = RedisBilling(self.redis, self.settings.key_prefix, self._secret,
                                   pin_attempts=wanted.pin_attempts,
                                   lock_seconds=int(wanted.lock_for))
        self._current = (wanted, backend)
        return backend

    def _development_key(self) -> bytes:
        log.warning("HOTLINE_SECRET_KEY is not set: vouchers and PINs are hashed with a "
                    "development key. Set a long random secret in production.")
        return b"hotline-development-key-" + os.environ.get("USER", "").encode()


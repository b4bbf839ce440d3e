"""What stands between Folio and a vendor: a circuit breaker and a shared rate limiter."""

import asyncio
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from app.core.cache import Cache, CacheUnavailable, MemoryCache
from app.core.errors import DomainError
from app.market.provider import (
    CircuitOpen,
    MarketDataUnauthorized,
    MarketDataUnavailable,
    VendorRateLimited,
)

logger = logging.getLogger("folio.market")

CircuitState = Literal["closed", "open", "half_open"]


def retry_after_header(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


class CircuitBreaker:
    """Opens after `threshold` vendor failures in a row; after `cooldown`, one trial passes."""

    def __init__(self, vendor: str, threshold: int, cooldown: float) -> None:
        self.vendor = vendor
        self.threshold = threshold
        self.cooldown = cooldown
        self._failures = 0
        self._open_until = 0.0
        self._trial_running = False

    @property
    def state(self) -> CircuitState:
        if self._failures < self.threshold:
            return "closed"
        return "open" if time.monotonic() < self._open_until else "half_open"

    @property
    def retry_after(self) -> float:
        return max(self._open_until - time.monotonic(), 0.0)

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run one vendor call through the breaker, counting how it ended."""
        self._before_call()
        try:
            yield
        except VendorRateLimited:
            self._trial_running = False
            raise
        except (MarketDataUnavailable, MarketDataUnauthorized):
            self._failure()
            raise
        except DomainError:
            self._success()  # the vendor answered (an unknown ticker is an answer)
            raise
        except BaseException:
            self._trial_running = False
            raise
        self._success()

    def _before_call(self) -> None:
        state = self.state
        if state == "open" or (state == "half_open" and self._trial_running):
            raise CircuitOpen(
                details={"provider": self.vendor},
                headers=retry_after_header(self.retry_after or self.cooldown),
            )
        self._trial_running = state == "half_open"

    def _success(self) -> None:
        if self._failures >= self.threshold:
            logger.info("%s circuit closed: the vendor answers again", self.vendor)
        self._failures = 0
        self._trial_running = False

    def _failure(self) -> None:
        self._failures += 1
        self._trial_running = False
        if self._failures >= self.threshold:
            self._open_until = time.monotonic() + self.cooldown
            logger.warning(
                "%s circuit open for %.0fs after %d failures in a row",
                self.vendor,
                self.cooldown,
                self._failures,
            )


class RateLimiter:
    """A budget of vendor calls per window, counted in the cache so every process shares it.

    When the cache is down each process counts for itself, which keeps one process inside
    the plan at least.
    """

    def __init__(self, cache: Cache, vendor: str, calls: int, window: float) -> None:
        self.cache = cache
        self.vendor = vendor
        self.calls = calls
        self.window = window
        self._local = MemoryCache()

    async def acquire(self, deadline: float) -> None:
        """Take one call from the budget, waiting for a next window until `deadline` (monotonic)."""
        while True:
            now = time.time()
            window = math.floor(now / self.window)
            if await self._count(f"ratelimit:{self.vendor}:{window}") <= self.calls:
                return
            wait = (window + 1) * self.window - now
            if time.monotonic() + wait > deadline:
                logger.warning("%s call budget spent; not waiting %.1fs", self.vendor, wait)
                raise VendorRateLimited(
                    details={"provider": self.vendor}, headers=retry_after_header(wait)
                )
            await asyncio.sleep(wait)

    async def _count(self, key: str) -> int:
        try:
            return await self.cache.incr(key, self.window * 2)
        except CacheUnavailable:
            return await self._local.incr(key, self.window * 2)

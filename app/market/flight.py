"""Single flight: concurrent misses for one key make one upstream call.

In a process, callers share the first caller's task. Across processes, the task holds a
short lock in the cache (`lock:<key>`); the others wait for it, then read what it stored.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

from app.core.cache import Cache, CacheUnavailable

logger = logging.getLogger("folio.market")

T = TypeVar("T")


class SingleFlight:
    def __init__(self, cache: Cache, lock_ttl: float, poll_interval: float) -> None:
        self.cache = cache
        self.lock_ttl = lock_ttl
        self.poll_interval = poll_interval
        self._calls: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        """The result of `call()`, shared with every concurrent caller of the same key."""
        task = self._calls.get(key)
        if task is None:
            task = asyncio.ensure_future(call())
            self._calls[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return cast(T, await asyncio.shield(task))

    def _forget(self, key: str, done: asyncio.Future[Any]) -> None:
        if self._calls.get(key) is done:
            del self._calls[key]
        if not done.cancelled():
            done.exception()  # retrieved here so an error nobody awaits is not reported twice

    @asynccontextmanager
    async def shared_lock(self, key: str) -> AsyncIterator[None]:
        """Hold `lock:<key>` across processes, waiting up to its TTL while another holds it.

        Without the cache, or after waiting the whole TTL, the caller goes on without it:
        the lock saves vendor calls, correctness never depends on it.
        """
        name, token = f"lock:{key}", secrets.token_hex(8)
        held = await self._acquire(name, token)
        try:
            yield
        finally:
            if held:
                await self._release(name, token)

    async def _acquire(self, name: str, token: str) -> bool:
        deadline = time.monotonic() + self.lock_ttl
        while True:
            try:
                if await self.cache.add(name, token, self.lock_ttl):
                    return True
            except CacheUnavailable:
                return False
            if time.monotonic() >= deadline:
                logger.warning("gave up waiting for %s", name)
                return False
            await asyncio.sleep(self.poll_interval)

    async def _release(self, name: str, token: str) -> None:
        try:
            if await self.cache.get(name) == token:
                await self.cache.delete(name)
        except CacheUnavailable:
            return

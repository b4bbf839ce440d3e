"""One small cache interface: Redis when `REDIS_URL` is set, in-process otherwise.

A Redis outage never fails a request by itself: operations raise `CacheUnavailable`,
which callers that can do without the cache turn into a miss (`soft_get`, `soft_set`).
After a failure the cache is skipped for a short back-off, then tried again.
"""

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, RedisError

logger = logging.getLogger("folio.cache")

RETRY_AFTER_FAILURE_SECONDS = 1.0


class CacheUnavailable(Exception):
    """The cache could not be asked."""


class Cache(Protocol):
    backend: str

    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl: float | None = None) -> None: ...
    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set only if absent; True when this call set it."""
        ...

    async def delete(self, *keys: str) -> None: ...
    async def incr(self, key: str, ttl: float, by: int = 1) -> int:
        """Add `by`; the window of `ttl` seconds starts with the first increment."""
        ...

    async def ttl(self, key: str) -> float | None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...

    @property
    def available(self) -> bool: ...


class MemoryCache:
    """The embedded mode's cache: a dict with expiry, for one process."""

    backend = "memory"
    available = True

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}

    def _live(self, key: str) -> tuple[str, float | None] | None:
        item = self._data.get(key)
        if item is not None and item[1] is not None and item[1] <= time.monotonic():
            del self._data[key]
            return None
        return item

    async def get(self, key: str) -> str | None:
        item = self._live(key)
        return item[0] if item else None

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self._data[key] = (value, time.monotonic() + ttl if ttl else None)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def incr(self, key: str, ttl: float, by: int = 1) -> int:
        item = self._live(key)
        count = int(item[0]) + by if item else by
        self._data[key] = (str(count), item[1] if item else time.monotonic() + ttl)
        return count

    async def ttl(self, key: str) -> float | None:
        item = self._live(key)
        if item is None or item[1] is None:
            return None
        return max(item[1] - time.monotonic(), 0.0)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    backend = "redis"

    def __init__(self, url: str, max_connections: int = 200) -> None:
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=2,
            socket_timeout=1.0,
            socket_connect_timeout=1.0,
            decode_responses=True,
            # One immediate retry, for a pooled connection that a restart of Redis closed; no
            # more: while Redis is down the cache is bypassed, not waited for.
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[ConnectionError],
        )
        self.client = redis.Redis(connection_pool=pool)
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        if not self.available:
            raise CacheUnavailable("redis is down (backing off)")
        try:
            yield
        except (TimeoutError, RedisError, OSError) as exc:
            if self.available:
                logger.warning("redis unavailable, bypassing the cache: %s", exc)
            self._down_until = time.monotonic() + RETRY_AFTER_FAILURE_SECONDS
            raise CacheUnavailable(str(exc)) from exc

    async def get(self, key: str) -> str | None:
        async with self._guard():
            value = await self.client.get(key)
            return str(value) if value is not None else None

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        async with self._guard():
            await self.client.set(key, value, px=int(ttl * 1000) if ttl else None)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        async with self._guard():
            return bool(await self.client.set(key, value, px=int(ttl * 1000), nx=True))

    async def delete(self, *keys: str) -> None:
        async with self._guard():
            await self.client.delete(*keys)

    async def incr(self, key: str, ttl: float, by: int = 1) -> int:
        async with self._guard():
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.incrby(key, by)
                pipe.pexpire(key, int(ttl * 1000), nx=True)
                count, _ = await pipe.execute()
            return int(count)

    async def ttl(self, key: str) -> float | None:
        async with self._guard():
            ms = await self.client.pttl(key)
            return ms / 1000 if ms >= 0 else None

    async def ping(self) -> bool:
        try:
            await self.client.ping()
        except (TimeoutError, RedisError, OSError):
            return False
        self._down_until = 0.0
        return True

    async def close(self) -> None:
        await self.client.aclose()


def create_cache(redis_url: str | None, max_connections: int = 200) -> Cache:
    return RedisCache(redis_url, max_connections) if redis_url else MemoryCache()


async def soft_get(cache: Cache, key: str) -> str | None:
    """A cache read that treats an unavailable cache as a miss."""
    try:
        return await cache.get(key)
    except CacheUnavailable:
        return None


async def soft_set(cache: Cache, key: str, value: str, ttl: float | None = None) -> None:
    """A cache write that is skipped when the cache is unavailable."""
    try:
        await cache.set(key, value, ttl)
    except CacheUnavailable:
        return

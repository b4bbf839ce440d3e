"""Both caches behave the same, and a Redis outage degrades the API instead of failing it."""

import asyncio
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient

from app.core.cache import Cache, CacheUnavailable, MemoryCache, RedisCache, soft_get, soft_set
from app.main import create_app
from tests.conftest import REDIS_URL, make_settings


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    c: Cache = MemoryCache() if request.param == "memory" else RedisCache(REDIS_URL)
    yield c
    await c.close()


@pytest.fixture
def key() -> str:
    return f"test:cache:{uuid.uuid4().hex}"


async def test_get_of_a_missing_key_is_none(cache: Cache, key: str) -> None:
    assert await cache.get(key) is None
    assert await cache.ttl(key) is None


async def test_set_then_get_without_ttl_keeps_the_value(cache: Cache, key: str) -> None:
    await cache.set(key, "189.50")
    assert await cache.get(key) == "189.50"
    assert await cache.ttl(key) is None
    await cache.delete(key)


async def test_value_expires_after_its_ttl(cache: Cache, key: str) -> None:
    await cache.set(key, "v", ttl=0.1)
    ttl = await cache.ttl(key)
    assert ttl is not None and 0 < ttl <= 0.1
    assert await cache.get(key) == "v"
    await asyncio.sleep(0.15)
    assert await cache.get(key) is None


async def test_add_sets_only_when_absent(cache: Cache, key: str) -> None:
    assert await cache.add(key, "first", ttl=0.1) is True
    assert await cache.add(key, "second", ttl=0.1) is False
    assert await cache.get(key) == "first"
    await asyncio.sleep(0.15)
    assert await cache.add(key, "third", ttl=5) is True
    assert await cache.get(key) == "third"
    await cache.delete(key)


async def test_incr_counts_within_a_window_that_the_first_increment_starts(
    cache: Cache, key: str
) -> None:
    assert await cache.incr(key, ttl=0.25) == 1
    await asyncio.sleep(0.1)
    assert await cache.incr(key, ttl=0.25) == 2
    ttl = await cache.ttl(key)
    assert ttl is not None and ttl <= 0.16, "a later increment must not extend the window"
    await asyncio.sleep(0.2)
    assert await cache.incr(key, ttl=0.25) == 1
    await cache.delete(key)


async def test_delete_removes_every_key_given(cache: Cache, key: str) -> None:
    await cache.set(f"{key}:a", "1")
    await cache.set(f"{key}:b", "2")
    await cache.delete(f"{key}:a", f"{key}:b", f"{key}:never-set")
    assert await cache.get(f"{key}:a") is None
    assert await cache.get(f"{key}:b") is None


async def test_ping_answers(cache: Cache) -> None:
    assert await cache.ping() is True
    assert cache.available


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayRedis:
    """A redis-server of the test's own on a free port, to stop and start at will."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server must be on PATH"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def throwaway_redis() -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_api_survives_a_redis_outage_and_uses_redis_again_after(
    database_url: str, throwaway_redis: ThrowawayRedis
) -> None:
    app = create_app(make_settings(database_url=database_url, redis_url=throwaway_redis.url))
    async with (
        LifespanManager(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        cache: Cache = app.state.shared.cache
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
        assert ready.json()["cache"] == {"status": "up", "backend": "redis", "detail": None}

        throwaway_redis.stop()
        ready = await client.get("/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "degraded"
        assert ready.json()["cache"]["status"] == "down"
        assert ready.json()["database"]["status"] == "up"
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/inspiration")).status_code == 200
        with pytest.raises(CacheUnavailable):
            await cache.get("quote:AAPL")
        assert await soft_get(cache, "quote:AAPL") is None
        await soft_set(cache, "quote:AAPL", "189.50")

        throwaway_redis.start()
        ready = await client.get("/health/ready")
        assert ready.json()["cache"]["status"] == "up"
        assert ready.json()["status"] == "ready"
        await cache.set("quote:AAPL", "190.00", ttl=5)
        assert await cache.get("quote:AAPL") == "190.00"


async def test_pooled_connections_that_a_restart_closed_are_replaced_at_once() -> None:
    server = ThrowawayRedis()
    server.start()
    cache = RedisCache(server.url)
    try:
        # Several connections in the pool, each then closed by the restart.
        await asyncio.gather(*(cache.set(f"k{n}", "v") for n in range(5)))
        await asyncio.to_thread(server.stop)
        await asyncio.to_thread(server.start)
        for n in range(5):
            await cache.set(f"after{n}", "v")  # no CacheUnavailable: no bypass, no backoff
        assert cache.available and await cache.get("after4") == "v"
    finally:
        await cache.close()
        server.stop()

"""Single flight across two API processes sharing PostgreSQL and Redis, at a real HTTP vendor."""

import asyncio
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.cache import RedisCache
from tests.conftest import REDIS_URL
from tests.market.conftest import vendor_body

ROOT = Path(__file__).resolve().parents[2]
BODIES = {
    "/iex/AAPL": "tiingo/tiingo_iex.json",
    "/tiingo/daily/GOOGL": "tiingo/tiingo_meta.json",
    "/tiingo/daily/GOOGL/prices": "tiingo/tiingo_daily_prices.json",
}


class FakeTiingo(ThreadingHTTPServer):
    calls: Counter[str]


class Handler(BaseHTTPRequestHandler):
    server: FakeTiingo

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        self.server.calls[path] += 1
        time.sleep(0.3)  # a slow vendor, so both processes miss while the first call runs
        body = vendor_body(BODIES[path])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return


@pytest.fixture
def fake_tiingo() -> Iterator[FakeTiingo]:
    server = FakeTiingo(("127.0.0.1", 0), Handler)
    server.calls = Counter()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


async def test_cold_requests_in_two_processes_make_one_vendor_call_each(
    database_url: str,
    cache: RedisCache,
    sessionmaker: async_sessionmaker[AsyncSession],
    fake_tiingo: FakeTiingo,
) -> None:
    vendor_url = f"http://127.0.0.1:{fake_tiingo.server_address[1]}"
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.market.two_processes", database_url, REDIS_URL, vendor_url,
            cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]  # fmt: skip
    for worker in workers:
        assert worker.stdout is not None
        assert (await asyncio.wait_for(worker.stdout.readline(), 30)).strip() == b"ready"
    outputs = await asyncio.gather(*(w.communicate(b"go\n") for w in workers))
    assert [out.strip() for out, _ in outputs] == [b"100", b"100"]
    assert [w.returncode for w in workers] == [0, 0]
    assert fake_tiingo.calls == {path: 1 for path in BODIES}, fake_tiingo.calls

"""A burst for one cold range over two uvicorn workers: 200 signed-in requests at once for
a month of GOOGL that no process has stored, while Tiingo (served on loopback with its real
bodies, answering in one second) is asked for it. Every request should be answered 200, and
the vendor asked once: the waiters wait on the shared single flight, holding no pooled
connection."""

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from app.auth.permissions import Role
from bench import seed
from bench.harness import FOLIO_APP, Aim, Context, Row, serving
from tests.faults.fake_vendor import FakeTiingo

BURST = 200
VENDOR_SECONDS = 1.0
RANGE = "/market/tickers/GOOGL/prices?start=2024-01-02&end=2024-01-31"
PRICES_PATH = "/tiingo/daily/GOOGL/prices"


def run(ctx: Context) -> list[Row]:
    headers = seed.bearer(seed.account(ctx.database_url, Role.VIEWER))
    with slow_tiingo() as vendor:
        env = ctx.folio_env(
            SECRET_KEY=seed.SECRET_KEY,
            MARKET_DATA_PROVIDER="tiingo",
            TIINGO_API_KEY="bench-key",
            TIINGO_BASE_URL=vendor.url,
            TIINGO_CALLS_PER_MINUTE="1000",
        )
        with serving(FOLIO_APP, env, workers=2) as url:
            statuses = asyncio.run(_burst(url + RANGE, headers))
        calls = len(vendor.calls_to(PRICES_PATH))
    answered = sum(1 for status in statuses if status == 200)
    print(f"  answers: {sorted(set(statuses))}, vendor calls for the range: {calls}")
    return [
        Row(
            f"{BURST} concurrent requests for one cold range, 2 workers: answered 200",
            answered,
            "requests",
            aim=Aim(">=", BURST, on_ratio=False),
        ),
        Row("  vendor calls for that range", calls, "calls", aim=Aim("<=", 1, on_ratio=False)),
    ]


async def _burst(url: str, headers: dict[str, str]) -> list[int]:
    limits = httpx.Limits(max_connections=BURST)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as client:
        answers = await asyncio.gather(*(client.get(url) for _ in range(BURST)))
    return [answer.status_code for answer in answers]


@contextmanager
def slow_tiingo() -> Iterator[FakeTiingo]:
    """The fake vendor on an event loop of its own thread, for the block."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    vendor = FakeTiingo(mode="slow", slow_seconds=VENDOR_SECONDS)
    asyncio.run_coroutine_threadsafe(vendor.start(), loop).result()
    try:
        yield vendor
    finally:
        asyncio.run_coroutine_threadsafe(vendor.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

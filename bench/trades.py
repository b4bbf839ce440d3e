"""Booking, importing and reading trades, each against a baseline measured in the same run."""

import asyncio
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import httpx
from sqlalchemy import insert

from app.auth.permissions import Role
from bench import seed
from bench.bare_insert import BenchRow
from bench.harness import FOLIO_APP, Aim, Context, Request, Row, load, serving

BARE_INSERT_APP = "bench.bare_insert:app"
PORTFOLIOS = 32
IMPORT_ROWS = 100_000
IMPORT_TICKERS = 500
DEEP_HISTORY = 10_000
TRADE = {
    "ticker": "AAPL",
    "side": "buy",
    "quantity": "1",
    "price": "100",
    "fees": "0",
    "trade_date": "2026-01-05",
}
JSON = {"Content-Type": "application/json"}


def run(ctx: Context) -> list[Row]:
    pm = seed.account(ctx.database_url, Role.PORTFOLIO_MANAGER)
    headers = seed.bearer(pm)
    slugs = seed.portfolios(ctx.database_url, pm, PORTFOLIOS + 4)
    spread, single, imported, deep = slugs[:PORTFOLIOS], slugs[-4], slugs[-3], slugs[-2]
    upload_target = slugs[-1]
    booking = Request("POST", headers | JSON, json.dumps(TRADE))
    with serving(BARE_INSERT_APP, {"DATABASE_URL": ctx.database_url}) as url:
        bare = load(f"{url}/rows", ctx.load_seconds, ctx.connections, Request("POST"))
        with httpx.Client() as client:
            bare_latency = _sequential_ms(lambda: client.post(f"{url}/rows"), 30)
    bare_import = _bare_bulk_insert_seconds(ctx.database_url)
    with serving(FOLIO_APP, ctx.folio_env(SECRET_KEY=seed.SECRET_KEY)) as url:
        httpx.post(
            f"{url}/portfolios/{single}/trades", json=TRADE, headers=headers
        ).raise_for_status()
        paths = tuple(f"/portfolios/{s}/trades" for s in spread)
        many = load(url, ctx.load_seconds, ctx.connections, _with_paths(booking, paths))
        one = load(f"{url}/portfolios/{single}/trades", ctx.load_seconds, 8, booking)
        import_seconds = _import(url, imported, headers, _import_csv())
        positions_url = f"{url}/portfolios/{imported}/positions?limit=500"
        # The first read fetches the holdings' recent prices and corporate actions; timed
        # are the reads after it.
        httpx.get(positions_url, headers=headers, timeout=120).raise_for_status()
        positions = load(positions_url, ctx.load_seconds, 4, Request(headers=headers))
        health = load(f"{url}/health", ctx.load_seconds, 4)
        during_upload = _health_during_import(url, upload_target, headers)
        _import(url, deep, headers, _deep_csv())
        with httpx.Client(headers=headers) as client:
            back_dated = _sequential_ms(lambda: _back_dated(client, f"{url}/portfolios/{deep}"), 30)
    rps, ms = "req/s", "ms"
    return [
        Row(
            f"POST trades, {PORTFOLIOS} portfolios, vs bare one-row insert route",
            many.requests_per_second,
            rps,
            baseline=bare.requests_per_second,
            aim=Aim(">=", 0.5),
        ),
        Row(
            "POST trades, all into one portfolio (one at a time by its lock)",
            one.requests_per_second,
            rps,
            baseline=bare.requests_per_second,
        ),
        Row(
            f"import {IMPORT_ROWS:,} trades (CSV over HTTP) vs bulk insert of as many rows",
            import_seconds,
            "s",
            baseline=bare_import,
            aim=Aim("<=", 10.0, on_ratio=False),
        ),
        Row(
            "GET positions (500 positions, 100k trades) p99, 4 connections, vs GET /health",
            positions.p99_ms,
            ms,
            baseline=health.p99_ms,
            aim=Aim("<=", 50.0, on_ratio=False),
        ),
        Row(
            "GET /health p99 while a 20 MB CSV import runs, vs without",
            statistics.quantiles(during_upload, n=100)[98],
            ms,
            baseline=health.p99_ms,
            aim=Aim("<=", 50.0, on_ratio=False),
        ),
        Row("GET /health slowest while that import runs", max(during_upload), ms),
        Row(
            f"back-dated trade into {DEEP_HISTORY:,} trades, median of 30, vs bare insert",
            statistics.median(back_dated),
            ms,
            baseline=statistics.median(bare_latency),
            aim=Aim("<=", 100.0, on_ratio=False),
        ),
        Row(
            "back-dated trade, slowest of 30",
            max(back_dated),
            ms,
            baseline=max(bare_latency),
            aim=Aim("<=", 100.0, on_ratio=False),
        ),
    ]


def _with_paths(request: Request, paths: tuple[str, ...]) -> Request:
    return Request(request.method, request.headers, request.body, paths)


def _sequential_ms(call: object, count: int) -> list[float]:
    """Each call's latency, over one kept-alive connection (the server's time, not the
    client's set-up)."""
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        response = call()  # type: ignore[operator]
        response.raise_for_status()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _import(url: str, slug: str, headers: dict[str, str], csv: str) -> float:
    started = time.perf_counter()
    response = httpx.post(
        f"{url}/portfolios/{slug}/trades/import",
        files={"file": ("trades.csv", csv.encode(), "text/csv")},
        headers=headers,
        timeout=300,
    )
    response.raise_for_status()
    return time.perf_counter() - started


def _health_during_import(url: str, slug: str, headers: dict[str, str]) -> list[float]:
    """GET /health one after another, in ms, for as long as a 20 MB import is being booked."""
    with ThreadPoolExecutor(1) as pool:
        upload = pool.submit(_import, url, slug, headers, _large_csv())
        with httpx.Client() as client:
            timings = _sequential_ms(lambda: client.get(f"{url}/health"), 20)
            while not upload.done():
                timings += _sequential_ms(lambda: client.get(f"{url}/health"), 20)
        upload.result()
    return timings


def _large_csv() -> str:
    """About 20 MB: 86,000 trades on 100 tickers with notes as long as people write them."""
    lines = ["trade_date,ticker,side,quantity,price,fees,notes"]
    note = "rebalanced after the committee's review of the sector weights; " * 3
    start = date(2018, 1, 2)
    for i in range(86_000):
        day = start + timedelta(days=i // 40)
        lines.append(f"{day},SIM{i % 100:03d},buy,1,{20 + i % 30}.5,0.5,{note}{i}")
    return "\n".join(lines) + "\n"


def _import_csv() -> str:
    """100,000 trades over ten years on 500 simulated tickers; every sell has a buy before it."""
    lines = ["trade_date,ticker,side,quantity,price,fees"]
    per_ticker = IMPORT_ROWS // IMPORT_TICKERS
    start = date(2016, 1, 4)
    for n in range(IMPORT_TICKERS):
        for i in range(per_ticker):
            day = start + timedelta(days=(i * 3650) // per_ticker)
            side, quantity = ("buy", 10) if i % 2 == 0 else ("sell", 5)
            lines.append(f"{day},SIM{n:03d},{side},{quantity},{50 + i % 40}.25,1.00")
    return "\n".join(lines) + "\n"


def _deep_csv() -> str:
    lines = ["trade_date,ticker,side,quantity,price,fees"]
    start = date(2016, 1, 4)
    for i in range(DEEP_HISTORY):
        side = "buy" if i % 2 == 0 else "sell"
        lines.append(
            f"{start + timedelta(days=i // 3)},MSFT,{side},{'4' if side == 'buy' else '3'},"
            f"{100 + i % 17}.5,0.5"
        )
    return "\n".join(lines) + "\n"


def _back_dated(client: httpx.Client, portfolio_url: str) -> httpx.Response:
    trade = TRADE | {"ticker": "MSFT", "trade_date": "2016-02-01", "quantity": "1"}
    return client.post(f"{portfolio_url}/trades", json=trade)


def _bare_bulk_insert_seconds(database_url: str) -> float:
    from app.core.database import create_engine

    async def insert_rows() -> float:
        engine = create_engine(seed.settings(database_url))
        try:
            rows = [{"note": f"row {i}"} for i in range(IMPORT_ROWS)]
            started = time.perf_counter()
            async with engine.begin() as conn:
                for chunk in range(0, IMPORT_ROWS, 2500):
                    await conn.execute(insert(BenchRow), rows[chunk : chunk + 2500])
            return time.perf_counter() - started
        finally:
            await engine.dispose()

    return asyncio.run(insert_rows())

"""Indicators over 500 tickers x 10 years of stored bars.

SIM000..SIM499 get ten years of the simulated provider's bars, bulk-inserted (COPY) with their
coverage, corporate actions and `actions_through`, so nothing is fetched while timing.

Timed, in this process, median of 3 each, against reading every ticker's whole history once
through the price-history reader: (a) storing the latest values of the stored indicators (the
eight defaults, sma_50 and sma_200) of all 500 tickers, as the after-close job does; (c)
evaluating 20 strategies (four of each kind) over all 500 tickers after a close, as the
after-close job does (the signals of one run are deleted before the next). Then (b) GET
/market/screen?where=rsi_14<30 over the 500 stored tickers on one uvicorn worker: latency one
request at a time (p99, against GET /health the same way), and requests/s under load.
"""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.auth.permissions import Role
from app.indicators.latest import store_latest
from app.indicators.service import whole_histories
from app.market.calendar import last_final_date, new_york_date
from app.market.simulated import SimulatedProvider
from app.state import AppState, open_state
from app.strategies import service
from app.strategies.evaluation import evaluate_after_close
from app.strategies.kinds import KindName, Params
from app.strategies.models import Signal
from app.strategies.schemas import StrategyCreate
from app.users.models import User
from bench import seed
from bench.analytics import COLUMNS, PROVIDER, _action_row, _bar_row
from bench.harness import FOLIO_APP, Aim, Context, Request, Row, load, serving
from bench.market import one_at_a_time

TICKERS = [f"SIM{i:03d}" for i in range(500)]
YEARS = 10
RUNS = 3
SCREEN = "/market/screen?where=rsi_14%3C30"
STRATEGIES: list[tuple[KindName, Params]] = [
    ("sma_cross", {"fast": 5, "slow": 20}),
    ("sma_cross", {"fast": 10, "slow": 30}),
    ("sma_cross", {"fast": 20, "slow": 50}),
    ("sma_cross", {"fast": 50, "slow": 200}),
    ("ema_cross", {"fast": 5, "slow": 20}),
    ("ema_cross", {"fast": 12, "slow": 26}),
    ("ema_cross", {"fast": 10, "slow": 30}),
    ("ema_cross", {"fast": 20, "slow": 50}),
    ("macd_cross", {"fast": 12, "slow": 26, "signal": 9}),
    ("macd_cross", {"fast": 8, "slow": 17, "signal": 9}),
    ("macd_cross", {"fast": 5, "slow": 35, "signal": 5}),
    ("macd_cross", {"fast": 10, "slow": 20, "signal": 5}),
    ("rsi_threshold", {"period": 14, "lower": 30, "upper": 70}),
    ("rsi_threshold", {"period": 7, "lower": 20, "upper": 80}),
    ("rsi_threshold", {"period": 21, "lower": 25, "upper": 75}),
    ("rsi_threshold", {"period": 14, "lower": 35, "upper": 65}),
    ("bollinger_reversion", {"period": 20, "k": 2}),
    ("bollinger_reversion", {"period": 20, "k": 2.5}),
    ("bollinger_reversion", {"period": 10, "k": 1.5}),
    ("bollinger_reversion", {"period": 30, "k": 2}),
]
INSTRUMENT_COLUMNS = [
    "ticker",
    "name",
    "currency",
    "provider",
    "created_at",
    "updated_at",
    "first_price_date",
    "last_price_date",
    "actions_through",
]


def run(ctx: Context) -> list[Row]:
    asyncio.run(_seed(ctx.database_url))
    analyst = seed.account(ctx.database_url, Role.ANALYST)
    read, stored, evaluated = asyncio.run(_time_storing(ctx, analyst))
    screen = _time_screen(ctx)
    what = f"{len(TICKERS)} tickers x {YEARS} y"
    return [
        Row(
            f"store the latest indicators, {what} (vs reading their bars once)",
            stored,
            "ms",
            baseline=read,
            aim=Aim("<=", 2000, on_ratio=False),
        ),
        Row(
            f"evaluate {len(STRATEGIES)} strategies after a close, {what} (vs reading bars once)",
            evaluated,
            "ms",
            baseline=read,
            aim=Aim("<=", 10000, on_ratio=False),
        ),
        Row(
            f"GET /market/screen?where=rsi_14<30, {what}: p99 one at a time (vs /health)",
            screen["p99"],
            "ms",
            baseline=screen["health_p99"],
            aim=Aim("<=", 50, on_ratio=False),
        ),
        Row("GET /market/screen p50 one at a time", screen["p50"], "ms", screen["health_p50"]),
        Row("GET /market/screen under load (vs /health)", screen["rps"], "req/s", screen["health"]),
        Row("GET /market/screen p99 under load", screen["load_p99"], "ms", screen["health_p99l"]),
    ]


# (a) storing the latest values, (c) evaluating strategies


async def _time_storing(ctx: Context, analyst: User) -> tuple[float, float, float]:
    """Median ms of reading every ticker's whole history, of storing its latest values, and
    of evaluating the strategies after the close."""
    async with open_state(seed.settings(ctx.database_url, ctx.redis_url)) as state:
        read = await _median(lambda: _read_all(state))
        stored = await _median(lambda: _store_all(state))
        await _create_strategies(state, analyst)
        evaluated = await _median(lambda: _evaluate_all(state))
    return read, stored, evaluated


async def _median(measure: Callable[[], Awaitable[float]]) -> float:
    return float(statistics.median([await measure() for _ in range(RUNS)]))


async def _read_all(state: AppState) -> float:
    end = new_york_date(datetime.now(UTC))
    started = time.perf_counter()
    async with state.sessions() as session:
        _, failed = await whole_histories(state.market, session, TICKERS, end)
    elapsed = (time.perf_counter() - started) * 1000
    if failed:
        raise RuntimeError(f"histories not read: {failed}")
    return elapsed


async def _store_all(state: AppState) -> float:
    started = time.perf_counter()
    async with state.sessions() as session:
        stored = await store_latest(session, state.market, TICKERS)
        await session.commit()
    elapsed = (time.perf_counter() - started) * 1000
    if len(stored.tickers) != len(TICKERS):
        raise RuntimeError(f"latest indicators not stored: {stored.failed}")
    return elapsed


async def _create_strategies(state: AppState, analyst: User) -> None:
    async with state.sessions() as session:
        for kind, params in STRATEGIES:
            name = f"{kind} {'/'.join(str(v) for v in params.values())}"
            data = StrategyCreate(name=name, kind=kind, params=params, tickers=TICKERS)
            await service.create(session, state.market, analyst, data)
        await session.commit()


async def _evaluate_all(state: AppState) -> float:
    day = last_final_date(datetime.now(UTC))
    async with state.sessions() as session:
        await session.execute(delete(Signal))
        await session.commit()
        started = time.perf_counter()
        outcomes = await evaluate_after_close(session, state.market, day)
        await session.commit()
    elapsed = (time.perf_counter() - started) * 1000
    signals = sum(o.signals for o in outcomes.values())
    if signals != len(STRATEGIES) * len(TICKERS):
        raise RuntimeError(f"{signals} signals stored after the close, not one per ticker")
    return elapsed


# (b) the screen


def _time_screen(ctx: Context) -> dict[str, float]:
    signed_in = Request(headers=seed.bearer(seed.account(ctx.database_url, Role.VIEWER)))
    with serving(FOLIO_APP, ctx.folio_env(SECRET_KEY=seed.SECRET_KEY)) as url:
        answer = httpx.get(url + SCREEN, headers=dict(signed_in.headers), timeout=30)
        answer.raise_for_status()
        print(f"  the screen matched {answer.json()['total']} of {len(TICKERS)} tickers")
        health_p50, health_p99 = one_at_a_time(f"{url}/health", {}, ctx.load_seconds)
        p50, p99 = one_at_a_time(url + SCREEN, signed_in.headers, ctx.load_seconds)
        health = load(f"{url}/health", ctx.load_seconds, ctx.connections)
        screen = load(url + SCREEN, ctx.load_seconds, ctx.connections, signed_in)
    return {
        "p50": p50,
        "p99": p99,
        "health_p50": health_p50,
        "health_p99": health_p99,
        "rps": screen.requests_per_second,
        "health": health.requests_per_second,
        "load_p99": screen.p99_ms,
        "health_p99l": health.p99_ms,
    }


# Seeding (not timed)


async def _seed(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        final = last_final_date(datetime.now(UTC))
        async with engine.connect() as conn:
            await seed_prices(conn, final - timedelta(days=366 * YEARS), final)
            await conn.commit()
        async with engine.connect() as conn:  # statistics, as autovacuum would gather them
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


async def _copy(conn: AsyncConnection, table: str, columns: list[str], rows: list[Any]) -> None:
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table, records=rows, columns=columns)


async def seed_prices(
    conn: AsyncConnection, first: date, final: date, tickers: list[str] = TICKERS
) -> None:
    """Bars from first to the last final date, covered through it, actions known through it."""
    provider = SimulatedProvider()
    now = datetime.now(UTC)
    instruments = [
        (t, f"Simulated {t}", "USD", PROVIDER, now, now, first, final, final) for t in tickers
    ]
    await _copy(conn, "instruments", INSTRUMENT_COLUMNS, instruments)
    ids = dict((await conn.execute(text("SELECT ticker, id FROM instruments"))).tuples().all())
    for ticker in tickers:
        actions = await provider.corporate_actions(ticker, first, final)
        rows = [_action_row(ids[ticker], a, now) for a in actions]
        await _copy(conn, "corporate_actions", COLUMNS["corporate_actions"], rows)
        bars = await provider.daily_bars(ticker, first, final)
        rows = [_bar_row(ids[ticker], b, now) for b in bars]
        await _copy(conn, "price_bars", COLUMNS["price_bars"], rows)
    coverage = [(ids[t], PROVIDER, first, final, now) for t in tickers]
    await _copy(conn, "price_coverage", COLUMNS["price_coverage"], coverage)

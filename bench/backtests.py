"""Backtests and sweeps over 10 years of one ticker's stored daily bars.

Timed: (a) one sma_cross backtest in the engine, from the split-adjusted bars to its
statistics (indicators, decisions, fills, figures), and with its whole result written out
(every round trip, the equity of every bar), median of 50 each, against TA-Lib computing the
strategy's two averages alone; (b) the same backtest through the API, from the
POST to the GET that shows it succeeded, on one uvicorn worker with one `folio worker`,
median of 20, against GET /health one request at a time on that server; (c) a sweep of 1,000
sma_cross combinations in the engine, median of 3, against (d) the same sweep with
backtesting.py (installed only in the bench environment: `make bench`), its own
`Backtest.optimize`, after checking that both fill the same round trips.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import talib
from sqlalchemy.ext.asyncio import create_async_engine

from app.auth.permissions import Role
from app.backtests import results
from app.backtests.engine import Bars, Terms
from app.backtests.engine import run as run_engine
from app.backtests.fills import Fill
from app.backtests.sweep import Decider, expand
from app.market import history
from app.market.calendar import last_final_date
from app.market.history import Adjusted
from app.state import open_state
from app.strategies.kinds import Params
from bench import seed
from bench.harness import FOLIO_APP, ROOT, Aim, Context, Row, serving
from bench.indicators import seed_prices
from bench.market import one_at_a_time

TICKER = "SIM950"  # with a 1-for-10 split in its history
YEARS = 10
PARAMS: Params = {"fast": 10, "slow": 30}  # bench/_reference.py's defaults
GRID = {"fast": list(range(2, 42)), "slow": list(range(50, 300, 10))}  # 40 x 25, all valid
TERMS = Terms(cash=100_000.0, commission=0.001, fill=Fill.NEXT_OPEN, risk_free_rate=0.0)
ENGINE_RUNS, API_RUNS, SWEEP_RUNS = 50, 20, 3


def run(ctx: Context) -> list[Row]:
    first, final = asyncio.run(_seed(ctx.database_url))
    bars = asyncio.run(_bars(ctx, first, final))
    engine_ms, result_ms, averages_ms = _time_engine(bars)
    api = _time_api(ctx, first, final)
    sweep_ms = _median(SWEEP_RUNS, lambda: _sweep(bars))
    reference_ms = _reference_sweep(bars)
    what = f"{len(bars.close):,} bars"
    return [
        Row(
            f"one backtest in the engine, {what} (vs TA-Lib's two averages alone)",
            engine_ms,
            "ms",
            baseline=averages_ms,
            aim=Aim("<=", 5, on_ratio=False),
        ),
        Row(
            "  with its whole result written out (the equity of every bar)",
            result_ms,
            "ms",
            baseline=averages_ms,
            aim=Aim("<=", 5, on_ratio=False),
        ),
        Row(
            "one backtest through the API and a worker, POST to done (vs GET /health)",
            api["backtest"],
            "ms",
            baseline=api["health"],
            aim=Aim("<=", 50, on_ratio=False),
        ),
        Row("GET of a finished backtest (vs GET /health)", api["read"], "ms", api["health"]),
        Row(
            f"sweep of 1,000 combinations, {what} (vs backtesting.py's optimize)",
            sweep_ms,
            "ms",
            baseline=reference_ms,
            aim=Aim("<=", 0.1, on_ratio=True),
        ),
        Row("  the same sweep, absolute", sweep_ms, "ms", aim=Aim("<=", 2000, on_ratio=False)),
    ]


def _median(runs: int, measure: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        measure()
        times.append((time.perf_counter() - started) * 1000)
    return float(statistics.median(times))


async def _seed(database_url: str) -> tuple[Any, Any]:
    final = last_final_date(datetime.now(UTC))
    first = final - timedelta(days=365 * YEARS)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            await seed_prices(conn, first, final, [TICKER])
            await conn.commit()
    finally:
        await engine.dispose()
    return first, final


async def _bars(ctx: Context, first: Any, final: Any) -> Adjusted:
    async with (
        open_state(seed.settings(ctx.database_url, ctx.redis_url)) as state,
        state.sessions() as session,
    ):
        bars, _ = await history.adjusted(state.market, session, TICKER, first, final)
    return bars


def _time_engine(bars: Adjusted) -> tuple[float, float, float]:
    """The engine (indicators, decisions, fills, figures), the whole result written out, and
    TA-Lib's two averages alone."""
    prices = Bars(bars.days, bars.open, bars.close)

    def engine() -> None:
        decisions = Decider(bars).decisions("sma_cross", PARAMS)
        assert decisions is not None
        run_engine(prices, decisions, TERMS)

    close = np.ascontiguousarray(bars.close)
    fast, slow = int(PARAMS["fast"]), int(PARAMS["slow"])
    return (
        _median(ENGINE_RUNS, engine),
        _median(ENGINE_RUNS, lambda: results.backtest(bars, "sma_cross", PARAMS, TERMS)),
        _median(ENGINE_RUNS, lambda: (talib.SMA(close, fast), talib.SMA(close, slow))),
    )


def _sweep(bars: Adjusted) -> list[dict[str, Any]]:
    grid = expand("sma_cross", {}, GRID)
    found, _ = results.sweep(Decider(bars), "sma_cross", grid.combinations, TERMS)
    assert len(found) == 1000
    return found


# (b) through the API


def _time_api(ctx: Context, first: Any, final: Any) -> dict[str, float]:
    analyst = seed.bearer(seed.account(ctx.database_url, Role.ANALYST))
    env = ctx.folio_env(SECRET_KEY=seed.SECRET_KEY)
    body = {
        "kind": "sma_cross",
        "params": PARAMS,
        "ticker": TICKER,
        "start": first.isoformat(),
        "end": final.isoformat(),
        "commission": "0.001",
    }
    with serving(FOLIO_APP, env) as url, _worker(env), httpx.Client(headers=analyst) as client:
        times, last = [], 0
        for _ in range(API_RUNS):
            started = time.perf_counter()
            last = client.post(f"{url}/backtests", json=body).raise_for_status().json()["id"]
            while client.get(f"{url}/backtests/{last}").json()["status"] != "succeeded":
                time.sleep(0.001)
            times.append((time.perf_counter() - started) * 1000)
        health, _ = one_at_a_time(f"{url}/health", {}, ctx.load_seconds)
        read, _ = one_at_a_time(f"{url}/backtests/{last}", analyst, ctx.load_seconds)
    return {"backtest": float(statistics.median(times)), "health": health, "read": read}


@contextmanager
def _worker(env: dict[str, str]) -> Iterator[None]:
    """`folio worker` beside the server, stopped at the end."""
    command = [sys.executable, "-c", "from app.cli.main import cli; cli()", "worker"]
    child_env = os.environ | {"PYTHONPATH": str(ROOT)} | env
    process = subprocess.Popen(command, env=child_env, cwd=tempfile.gettempdir())
    try:
        time.sleep(2)  # connected and listening
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


# (d) the reference library


def _reference_sweep(bars: Adjusted) -> float:
    """backtesting.py's optimize over the same grid, in ms; it must fill what Folio fills."""
    import pandas as pd
    from backtesting import Backtest

    from bench._reference import SmaCross

    frame = pd.DataFrame(
        {"Open": bars.open, "High": bars.high, "Low": bars.low, "Close": bars.close},
        index=pd.DatetimeIndex(bars.days),
    )
    warnings.filterwarnings("ignore")  # its notes on open trades and progress bars
    test = Backtest(frame, SmaCross, cash=TERMS.cash, commission=TERMS.commission)
    _same_round_trips(test.run(), results.backtest(bars, "sma_cross", PARAMS, TERMS))
    started = time.perf_counter()
    test.optimize(**GRID, maximize="Equity Final [$]", return_heatmap=True)
    return (time.perf_counter() - started) * 1000


def _same_round_trips(theirs: Any, ours: dict[str, Any]) -> None:
    trades = theirs._trades
    same = len(trades) == len(ours["trades"]) and all(
        row.Size == mine["quantity"] and abs(row.PnL - float(mine["pnl"])) < 1e-6
        for (_, row), mine in zip(trades.iterrows(), ours["trades"], strict=True)
    )
    if not same:
        raise RuntimeError("backtesting.py and Folio fill different round trips")
    print(f"  backtesting.py and Folio fill the same {len(trades)} round trips")

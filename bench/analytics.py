"""Performance requests on big portfolios: PostgreSQL, simulated prices, one uvicorn worker.

Two portfolios are seeded before anything is timed: (a) 1,900 trades over 8 years on 50
tickers and (b) 100,000 trades over 10 years on 500 tickers (SIM000..SIM499), with monthly
deposits, a few withdrawals and quarterly dividends. The simulated provider's bars for every
ticker and the benchmark (SPY) are bulk-inserted (COPY) with their coverage and corporate
actions, so no request fetches market data; trades and cash go in by COPY too, positions as
the fold of the trades.

Timed, as a client sees them: `GET /portfolios/{slug}/performance` over the whole history
cold (no stored NAV; median of 3, the series dropped between runs), warm after one trade
back-dated a month (median of 5, each with a new trade booked through the API), and warm with
nothing changed. Peak RSS (VmHWM) of a server process that served only (b). Baseline: GET
/health on the same server.
"""

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from app.auth.permissions import Role
from app.core.database import create_sessionmaker
from app.ledger.fold import Holding, fold
from app.ledger.rules import Fill
from app.market.provider import Action, Bar
from app.market.simulated import SimulatedProvider
from app.users.service import create_user
from bench.harness import FOLIO_APP, Aim, Context, Row, _spawn, _stop, _wait_for_health, free_port

PROVIDER = "simulated"
BENCHMARK = "SPY"
EMAIL = "bench-analytics@desk.example"
PASSWORD = "bench analytics password"
COLD_RUNS = 3
WARM_RUNS = 5
HEALTH_RUNS = 50
SEED = 20261123
COLUMNS = {
    "instruments": [
        "ticker",
        "name",
        "currency",
        "provider",
        "created_at",
        "updated_at",
        "actions_through",
    ],
    "corporate_actions": [
        "instrument_id",
        "type",
        "ex_date",
        "pay_date",
        "split_to",
        "split_from",
        "cash_amount",
        "currency",
        "source",
        "fetched_at",
    ],
    "price_bars": [
        "instrument_id",
        "date",
        "open",
        "high",
        "low",
        "close",
        "adj_close",
        "volume",
        "dividend",
        "split_factor",
        "provider",
        "fetched_at",
    ],
    "price_coverage": ["instrument_id", "provider", "start_date", "end_date", "fetched_at"],
    "trades": [
        "portfolio_id",
        "instrument_id",
        "side",
        "quantity",
        "price",
        "fees",
        "trade_date",
        "notes",
        "status",
        "created_by",
        "created_at",
    ],
    "positions": [
        "portfolio_id",
        "instrument_id",
        "quantity",
        "cost_basis",
        "realized_pnl",
        "last_trade_date",
        "opened_on",
        "updated_at",
    ],
    "cash_transactions": [
        "portfolio_id",
        "type",
        "amount",
        "date",
        "note",
        "instrument_id",
        "created_by",
        "created_at",
    ],
}


@dataclass(frozen=True)
class Shape:
    name: str
    trades: int
    years: int
    tickers: int


SMALL = Shape("a", 1_900, 8, 50)
LARGE = Shape("b", 100_000, 10, 500)


def run(ctx: Context) -> list[Row]:
    slugs = asyncio.run(_seed(ctx.database_url))
    with _server(ctx) as (url, _):
        client = _client(url)
        health = _median(lambda: _get(client, f"{url}/health"), HEALTH_RUNS)
        small = _measure(ctx, client, url, slugs[SMALL.name])
    with _server(ctx) as (url, pid):
        client = _client(url)
        idle_mb = _memory_mb(pid, "VmRSS")
        large = _measure(ctx, client, url, slugs[LARGE.name])
        peak_mb = _memory_mb(pid, "VmHWM")
    return [
        *_rows(SMALL, small, health, cold_aim=100, warm_aim=None),
        *_rows(LARGE, large, health, cold_aim=2000, warm_aim=200),
        Row(
            f"peak RSS of the API serving ({LARGE.name})",
            peak_mb,
            "MB",
            baseline=idle_mb,
            aim=Aim("<=", 500, on_ratio=False),
        ),
    ]


def _rows(
    shape: Shape, timings: dict[str, float], health: float, cold_aim: float, warm_aim: float | None
) -> list[Row]:
    what = f"({shape.name}) {shape.trades:,} trades, {shape.years} y, {shape.tickers} tickers"

    def aim(ms: float | None) -> Aim | None:
        return Aim("<=", ms, on_ratio=False) if ms else None

    return [
        Row(f"{what}: performance cold", timings["cold"], "ms", health, aim(cold_aim)),
        Row(f"{what}: after a back-dated trade", timings["warm"], "ms", health, aim(warm_aim)),
        Row(f"{what}: nothing changed", timings["same"], "ms", health),
    ]


# Serving and timing


@contextmanager
def _server(ctx: Context) -> Iterator[tuple[str, int]]:
    """The API in its own process, as harness.serving starts it, with the process id."""
    port = free_port()
    process = _spawn(FOLIO_APP, port, ctx.folio_env())
    try:
        _wait_for_health(process, port)
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        _stop(process)


def _client(url: str) -> httpx.Client:
    client = httpx.Client(timeout=60.0)
    form = {"username": EMAIL, "password": PASSWORD}
    token = client.post(f"{url}/auth/jwt/login", data=form).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _get(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed


def _median(measure: Callable[[], float], runs: int) -> float:
    return float(statistics.median(measure() for _ in range(runs)))


def _measure(ctx: Context, client: httpx.Client, url: str, slug: str) -> dict[str, float]:
    performance = f"{url}/portfolios/{slug}/performance"

    def cold() -> float:
        asyncio.run(_forget_series(ctx.database_url, slug))
        return _get(client, performance)

    def warm() -> float:
        _book_back_dated(client, url, slug)
        return _get(client, performance)

    return {
        "cold": _median(cold, COLD_RUNS),
        "warm": _median(warm, WARM_RUNS),
        "same": _median(lambda: _get(client, performance), WARM_RUNS),
    }


def _book_back_dated(client: httpx.Client, url: str, slug: str) -> None:
    day = np.busday_offset(np.datetime64(_today(), "D"), -22, roll="backward").astype(date)
    body = {
        "ticker": "SIM000",
        "side": "buy",
        "quantity": "1",
        "price": "100",
        "trade_date": day.isoformat(),
    }
    response = client.post(f"{url}/portfolios/{slug}/trades", json=body)
    if response.status_code != 201:
        raise RuntimeError(f"booking answered {response.status_code}: {response.text[:300]}")


def _memory_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for process {pid}")


async def _forget_series(database_url: str, slug: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "DELETE FROM portfolio_navs WHERE portfolio_id = "
                    "(SELECT id FROM portfolios WHERE slug = :slug)"
                ),
                {"slug": slug},
            )
            await conn.execute(
                text("UPDATE portfolios SET nav_valid_through = NULL WHERE slug = :slug"),
                {"slug": slug},
            )
    finally:
        await engine.dispose()


# Seeding (not timed)


def _today() -> date:
    return datetime.now(UTC).date()


async def _seed(database_url: str) -> dict[str, str]:
    engine = create_async_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            user = await create_user(
                session,
                email=EMAIL,
                password=PASSWORD,
                username="bench-analytics",
                role=Role.ADMIN,
                superuser=True,
            )
            await session.commit()
            user_id = user.id
        last = np.busday_offset(np.datetime64(_today(), "D"), -1, roll="backward").astype(date)
        first = last - timedelta(days=366 * LARGE.years + 30)
        async with engine.connect() as conn:
            instruments = await _seed_prices(conn, first, last)
            slugs = {
                shape.name: await _seed_portfolio(conn, shape, user_id, instruments, last)
                for shape in (SMALL, LARGE)
            }
            await conn.commit()
        # Statistics, as autovacuum would gather them after a bulk load.
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
        return slugs
    finally:
        await engine.dispose()


@dataclass
class Priced:
    id: int
    days: np.ndarray
    closes: list[Decimal]


async def _copy(conn: AsyncConnection, table: str, rows: list[Any]) -> None:
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table, records=rows, columns=COLUMNS[table])


def _bar_row(instrument: int, bar: Bar, now: datetime) -> tuple[Any, ...]:
    prices = (bar.open, bar.high, bar.low, bar.close, bar.adj_close)
    return (
        instrument,
        bar.date,
        *prices,
        bar.volume,
        bar.dividend,
        bar.split_factor,
        PROVIDER,
        now,
    )


def _action_row(instrument: int, action: Action, now: datetime) -> tuple[Any, ...]:
    return (
        instrument,
        action.type.value,
        action.ex_date,
        action.pay_date,
        action.split_to,
        action.split_from,
        action.cash_amount,
        action.currency,
        PROVIDER,
        now,
    )


async def _seed_prices(conn: AsyncConnection, first: date, last: date) -> dict[str, Priced]:
    provider = SimulatedProvider()
    now = datetime.now(UTC)
    tickers = [BENCHMARK, *(f"SIM{i:03d}" for i in range(LARGE.tickers))]
    await _copy(
        conn,
        "instruments",
        [(t, f"Simulated {t}", "USD", PROVIDER, now, now, last) for t in tickers],
    )
    ids = dict((await conn.execute(text("SELECT ticker, id FROM instruments"))).tuples().all())
    priced: dict[str, Priced] = {}
    for ticker in tickers:
        actions = await provider.corporate_actions(ticker, first, last)
        await _copy(conn, "corporate_actions", [_action_row(ids[ticker], a, now) for a in actions])
        bars = await provider.daily_bars(ticker, first, last)
        await _copy(conn, "price_bars", [_bar_row(ids[ticker], b, now) for b in bars])
        days = np.array([b.date for b in bars], dtype="datetime64[D]")
        priced[ticker] = Priced(ids[ticker], days, [b.close for b in bars])
    await _copy(conn, "price_coverage", [(ids[t], PROVIDER, first, last, now) for t in tickers])
    return priced


async def _seed_portfolio(
    conn: AsyncConnection,
    shape: Shape,
    user_id: uuid.UUID,
    instruments: dict[str, Priced],
    last: date,
) -> str:
    rng = np.random.default_rng(SEED + shape.trades)
    now = datetime.now(UTC)
    portfolio_id, slug = uuid.uuid4(), f"bench-{shape.name}-{uuid.uuid4().hex[:6]}"
    await conn.execute(
        text(
            "INSERT INTO portfolios (id, slug, name, description, base_currency, pm_id, "
            "allow_short, allow_negative_cash, benchmark, cash_balance, created_at, updated_at, "
            "nav_version) VALUES (:id, :slug, :slug, '', 'USD', :pm, false, true, :benchmark, 0, "
            ":now, :now, 0)"
        ),
        {"id": portfolio_id, "slug": slug, "pm": user_id, "benchmark": BENCHMARK, "now": now},
    )
    first = last - timedelta(days=365 * shape.years)
    calendar = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    days = np.sort(rng.choice(calendar[np.is_busday(calendar)], size=shape.trades))
    tickers = [f"SIM{i:03d}" for i in range(shape.tickers)]
    trades, fills = _trades(rng, days, tickers, instruments)
    await _copy(conn, "trades", [(portfolio_id, *t, "", "booked", user_id, now) for t in trades])
    folded = {t: fold(f, allow_short=False).holding() for t, f in fills.items() if f}
    held = [(portfolio_id, instruments[t].id, *_position(h), now) for t, h in folded.items()]
    await _copy(conn, "positions", held)
    cash = _cash_moves(first, last, tickers[0], instruments)
    await _copy(conn, "cash_transactions", [(portfolio_id, *c, user_id, now) for c in cash])
    balance = sum((f.cash_effect for fs in fills.values() for f in fs), Decimal(0))
    balance += sum((c[1] * (-1 if c[0] == "withdrawal" else 1) for c in cash), Decimal(0))
    await conn.execute(
        text("UPDATE portfolios SET cash_balance = :balance WHERE id = :id"),
        {"balance": balance, "id": portfolio_id},
    )
    return slug


def _position(h: Holding) -> tuple[Any, ...]:
    return h.quantity, h.cost_basis, h.realized_pnl, h.last_trade_date, h.opened_on


def _trades(
    rng: np.random.Generator,
    days: np.ndarray,
    tickers: list[str],
    instruments: dict[str, Priced],
) -> tuple[list[tuple[Any, ...]], dict[str, list[Fill]]]:
    """Buys and sells at the day's simulated close; a sell never exceeds the holding."""
    holding = dict.fromkeys(tickers, 0)
    fills: dict[str, list[Fill]] = {t: [] for t in tickers}
    rows = []
    for day64, pick in zip(days, rng.integers(0, len(tickers), size=len(days)), strict=True):
        ticker = tickers[pick]
        priced = instruments[ticker]
        price = priced.closes[max(int(np.searchsorted(priced.days, day64, "right")) - 1, 0)]
        selling = holding[ticker] > 0 and rng.random() < 0.4
        quantity = int(rng.integers(1, (holding[ticker] if selling else 99) + 1))
        holding[ticker] += -quantity if selling else quantity
        side, day = ("sell" if selling else "buy"), day64.astype(date)
        fill = Fill(side, Decimal(quantity), price, Decimal("1.00"), day)
        fills[ticker].append(fill)
        rows.append((priced.id, side, fill.quantity, fill.price, fill.fees, day))
    return rows, fills


def _cash_moves(
    first: date, last: date, payer: str, instruments: dict[str, Priced]
) -> list[tuple[Any, ...]]:
    """A large first deposit, then monthly deposits, quarterly dividends, yearly withdrawals."""
    months = np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1)
    moves: list[tuple[Any, ...]] = [("deposit", Decimal(1_000_000), first, "seed", None)]
    for n, month in enumerate(months[1:], start=1):
        day = np.busday_offset(month.astype("datetime64[D]"), 0, roll="forward").astype(date)
        if day > last:
            break
        moves.append(("deposit", Decimal(50_000), day, "monthly", None))
        if n % 3 == 0:
            moves.append(("dividend", Decimal("1234.56"), day, "", instruments[payer].id))
        if n % 12 == 0:
            moves.append(("withdrawal", Decimal(100_000), day, "yearly", None))
    return moves

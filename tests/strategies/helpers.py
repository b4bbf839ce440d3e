"""Generated bars stored as the market's own would be, and the signal rules of PRODUCT.md
computed again here, bar by bar, on TA-Lib's values (independently of app/strategies)."""

import math
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import talib
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession
from talib import MA_Type  # type: ignore[attr-defined]  # public, not marked as exported

from app.auth.permissions import Role
from app.market.calendar import is_trading_day
from app.market.models import Instrument
from tests.factories import PRICES_PROVIDER, bearer, flat_bar, make_user, store_priced

CENT = Decimal("0.01")
BARS = 260
FIRST_DAY = date(2023, 1, 3)

Floats = npt.NDArray[np.float64]
SMA_AVERAGE = MA_Type.SMA  # the moving average of the Bollinger bands


def trading_days(first: date = FIRST_DAY, count: int = BARS) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if is_trading_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


DAYS = trading_days()


def closes(seed: int, count: int = BARS) -> list[Decimal]:
    """A random walk in cents that swings enough to cross averages and bands often."""
    rng = np.random.default_rng(seed)
    walk = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, count)))
    return [Decimal(float(c)).quantize(CENT) for c in walk]


async def store_bars(
    session: AsyncSession, ticker: str, prices: list[Decimal], days: list[date] = DAYS
) -> None:
    """The instrument with a bar a day (OHLC at the close), the dates covered, and its
    corporate actions known (none): nothing is asked of the vendor. Committed."""
    await store_priced(session, ticker, [flat_bar(d, p) for d, p in zip(days, prices, strict=True)])


async def store_instrument(session: AsyncSession, ticker: str) -> None:
    """An instrument with no bars and nothing covered: its data must come from the vendor."""
    session.add(Instrument(ticker=ticker, name=ticker, currency="USD", provider=PRICES_PROVIDER))
    await session.commit()


async def analyst_headers(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await bearer(app, await make_user(session, Role.ANALYST))


async def create_strategy(
    client: AsyncClient, headers: dict[str, str], **fields: Any
) -> dict[str, Any]:
    body = {"name": f"strategy {uuid.uuid4().hex[:8]}"} | fields
    response = await client.post("/strategies", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def all_items(client: AsyncClient, url: str, headers: dict[str, str]) -> list[Any]:
    items: list[Any] = []
    while True:
        params = {"limit": 500, "offset": len(items)}
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        if len(items) >= page["total"]:
            return items


def _crossings(a: Floats, b: Floats) -> list[str]:
    out = ["HOLD"]
    for t in range(1, len(a)):
        if a[t - 1] < b[t - 1] and a[t] > b[t]:
            out.append("BUY")
        elif a[t - 1] > b[t - 1] and a[t] < b[t]:
            out.append("SELL")
        else:
            out.append("HOLD")
    return out


def _band(x: Floats, lower: Floats, upper: Floats) -> list[str]:
    return [
        "BUY" if x[t] < lower[t] else "SELL" if x[t] > upper[t] else "HOLD" for t in range(len(x))
    ]


def expected_types(kind: str, p: dict[str, Any], close: Floats) -> list[str]:
    """Each bar's type by the rule of PRODUCT.md, on TA-Lib's values."""
    if kind == "sma_cross":
        return _crossings(talib.SMA(close, p["fast"]), talib.SMA(close, p["slow"]))
    if kind == "ema_cross":
        return _crossings(talib.EMA(close, p["fast"]), talib.EMA(close, p["slow"]))
    if kind == "macd_cross":
        line, signal, _ = talib.MACD(close, p["fast"], p["slow"], p["signal"])
        return _crossings(line, signal)
    if kind == "rsi_threshold":
        rsi = talib.RSI(close, p["period"])
        return _band(rsi, np.full(len(close), p["lower"]), np.full(len(close), p["upper"]))
    assert kind == "bollinger_reversion"
    upper, _, lower = talib.BBANDS(close, p["period"], p["k"], p["k"], SMA_AVERAGE)
    return _band(close, lower, upper)


def as_floats(prices: list[Decimal]) -> Floats:
    return np.array([float(p) for p in prices], dtype=np.float64)


def same(got: float | None, want: float) -> bool:
    return got is not None and math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12)

"""Made-up tickers' daily bars (a random walk each, no splits), stored with coverage and known
corporate actions far ahead so the reader never asks the vendor, and what TA-Lib makes of them.
"""

import math
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import talib
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import StoredBar, store_priced
from tests.indicators.history import Floats

FIRST = date(2022, 1, 3)
KNOWN_THROUGH = date(2099, 12, 31)  # every later date is confirmed to have no bar
CENT = Decimal("0.01")
SMA = talib.MA_Type.SMA
Bars = dict[str, Floats]


def weekdays(first: date, count: int) -> list[date]:
    days = [first + timedelta(days=i) for i in range(count * 2)]
    return [d for d in days if d.weekday() < 5][:count]


def walk(seed: int, count: int) -> tuple[list[date], Bars]:
    """Days and OHLCV arrays of a random walk, prices in cents."""
    rng = np.random.default_rng(seed)
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, count)))
    open_ = np.r_[close[0], close[:-1]]
    reach = 1 + np.abs(rng.normal(0, 0.01, (2, count)))
    bars = {
        "open": open_,
        "high": np.maximum(open_, close) * reach[0],
        "low": np.minimum(open_, close) / reach[1],
        "close": close,
        "volume": rng.integers(100_000, 1_000_000, count).astype(np.float64),
    }
    cents = {k: np.array([float(_cents(x)) for x in v]) for k, v in bars.items()}
    return weekdays(FIRST, count), cents


async def store_walk(
    session: AsyncSession, ticker: str, seed: int, count: int = 300
) -> tuple[list[date], Bars]:
    """The instrument and its walk's bars, covered through KNOWN_THROUGH; committed."""
    days, bars = walk(seed, count)
    stored = [bar(day, bars, i) for i, day in enumerate(days)]
    await store_priced(session, ticker, stored, covered_through=KNOWN_THROUGH)
    return days, bars


def bar(day: date, bars: Bars, i: int) -> StoredBar:
    o, h, lo, c = (_cents(bars[f][i]) for f in ("open", "high", "low", "close"))
    return StoredBar(day, o, h, lo, c, c, int(bars["volume"][i]))


def _cents(value: float) -> Decimal:
    return Decimal(float(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def talib_last(bars: Bars) -> dict[str, float | None]:
    """Every stored column's value on the last bar, as TA-Lib gives it (None while NaN)."""
    h, lo, c, v = (bars[f] for f in ("high", "low", "close", "volume"))
    macd, signal, hist = talib.MACD(c, 12, 26, 9)
    upper, middle, lower = talib.BBANDS(c, 20, 2, 2, SMA)
    k, d = talib.STOCH(h, lo, c, 14, 3, SMA, 3, SMA)
    columns = {
        "close": c,
        "volume": v,
        "sma_20": talib.SMA(c, 20),
        "ema_20": talib.EMA(c, 20),
        "macd_12_26_9": macd,
        "macd_12_26_9_signal": signal,
        "macd_12_26_9_hist": hist,
        "rsi_14": talib.RSI(c, 14),
        "bbands_20_2_upper": upper,
        "bbands_20_2_middle": middle,
        "bbands_20_2_lower": lower,
        "atr_14": talib.ATR(h, lo, c, 14),
        "stoch_14_3_3_k": k,
        "stoch_14_3_3_d": d,
        "obv": talib.OBV(c, v),
        "sma_50": talib.SMA(c, 50),
        "sma_200": talib.SMA(c, 200),
    }
    return {name: None if math.isnan(x[-1]) else float(x[-1]) for name, x in columns.items()}

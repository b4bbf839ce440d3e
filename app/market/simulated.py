"""The offline provider: deterministic prices for a fixed list of tickers, business days only.

Every bar is labelled `simulated`. A ticker's series is generated whole from a seed
(SERIES_START on), so the same ticker and date always give the same bar whatever range is
asked. Prices are plausible: tens to hundreds, 15-45 % yearly volatility (index funds 16 %),
a drift of a few percent a year, consistent OHLC and volume.
"""

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np

from app.market.provider import Bar, Quote, TickerInfo, UnknownTicker

SERIES_START = date(1995, 1, 2)
SERIES_END = date(2040, 12, 31)
CENT = Decimal("0.01")

NAMED_TICKERS: dict[str, str] = {
    "AAPL": "Apple Inc.",
    "MSFT": "Microsoft Corporation",
    "GOOGL": "Alphabet Inc. Class A",
    "AMZN": "Amazon.com, Inc.",
    "NVDA": "NVIDIA Corporation",
    "META": "Meta Platforms, Inc.",
    "TSLA": "Tesla, Inc.",
    "BRK.B": "Berkshire Hathaway Inc. Class B",
    "JPM": "JPMorgan Chase & Co.",
    "V": "Visa Inc.",
    "JNJ": "Johnson & Johnson",
    "WMT": "Walmart Inc.",
    "PG": "The Procter & Gamble Company",
    "XOM": "Exxon Mobil Corporation",
    "UNH": "UnitedHealth Group Incorporated",
    "HD": "The Home Depot, Inc.",
    "KO": "The Coca-Cola Company",
    "PEP": "PepsiCo, Inc.",
    "DIS": "The Walt Disney Company",
    "NFLX": "Netflix, Inc.",
    "INTC": "Intel Corporation",
    "AMD": "Advanced Micro Devices, Inc.",
    "CSCO": "Cisco Systems, Inc.",
    "ORCL": "Oracle Corporation",
    "IBM": "IBM",
    "BAC": "Bank of America Corporation",
    "GS": "The Goldman Sachs Group, Inc.",
    "PFE": "Pfizer Inc.",
    "MRK": "Merck & Co., Inc.",
    "CVX": "Chevron Corporation",
    "MCD": "McDonald's Corporation",
    "NKE": "NIKE, Inc.",
    "BA": "The Boeing Company",
    "CAT": "Caterpillar Inc.",
    "SPY": "SPDR S&P 500 ETF Trust",
    "QQQ": "Invesco QQQ Trust",
    "IWM": "iShares Russell 2000 ETF",
    "VTI": "Vanguard Total Stock Market ETF",
    "AGG": "iShares Core U.S. Aggregate Bond ETF",
    "TLT": "iShares 20+ Year Treasury Bond ETF",
    "GLD": "SPDR Gold Shares",
    "EFA": "iShares MSCI EAFE ETF",
}
ETFS = {"SPY", "QQQ", "IWM", "VTI", "AGG", "TLT", "GLD", "EFA"}
# A numbered family for demos and benchmarks that need many instruments: SIM000 .. SIM999.
NUMBERED_PREFIX = "SIM"
NUMBERED_COUNT = 1000


def is_known(ticker: str) -> bool:
    if ticker in NAMED_TICKERS:
        return True
    suffix = ticker.removeprefix(NUMBERED_PREFIX)
    return ticker.startswith(NUMBERED_PREFIX) and len(suffix) == 3 and suffix.isdigit()


def known_tickers() -> list[str]:
    numbered = [f"{NUMBERED_PREFIX}{i:03d}" for i in range(NUMBERED_COUNT)]
    return [*NAMED_TICKERS, *numbered]


def _seed(ticker: str) -> int:
    return int.from_bytes(hashlib.sha256(ticker.encode()).digest()[:8], "big")


TRADING_DAYS = 252
# Log prices revert to a drifting trend (half-life about a year and a half), so that over
# decades a ticker stays in the tens to hundreds while its daily moves keep their volatility.
REVERSION = np.log(2) / (1.5 * TRADING_DAYS)
REVERSION_BLOCK = 1000
INDEX_VOLATILITY = 0.16


def _yearly_volatility(ticker: str, rng: np.random.Generator) -> float:
    return INDEX_VOLATILITY if ticker in ETFS else 0.15 + rng.random() * 0.30


def _reverting(shocks: np.ndarray) -> np.ndarray:
    """x[t] = keep * x[t-1] + shocks[t] from x = 0, computed a block at a time (each block
    in closed form: keep**-k stays small within one)."""
    keep = 1 - REVERSION
    out = np.empty(len(shocks))
    level = 0.0
    for start in range(0, len(shocks), REVERSION_BLOCK):
        block = shocks[start : start + REVERSION_BLOCK]
        powers = keep ** np.arange(len(block))
        out[start : start + len(block)] = powers * (keep * level + np.cumsum(block / powers))
        level = out[start + len(block) - 1]
    return out


@lru_cache(maxsize=2048)
def _series(ticker: str) -> tuple[np.ndarray, np.ndarray]:
    """Business days and OHLC and volume (prices in cents) of one ticker's whole history."""
    days = np.arange(
        np.datetime64(SERIES_START), np.datetime64(SERIES_END) + 1, dtype="datetime64[D]"
    )
    days = days[np.is_busday(days)]
    rng = np.random.default_rng(_seed(ticker))
    daily_vol = _yearly_volatility(ticker, rng) / np.sqrt(TRADING_DAYS)
    growth = (0.01 + rng.random() * 0.04) / TRADING_DAYS  # 1-5 % a year
    trend = np.log(15 + rng.random() * 70) + growth * np.arange(len(days))
    closes = np.exp(trend + _reverting(rng.normal(0.0, daily_vol, size=len(days))))
    opens = np.concatenate(([closes[0]], closes[:-1])) * np.exp(
        rng.normal(0.0, daily_vol / 4, size=len(days))
    )
    reach = np.abs(rng.normal(0.0, daily_vol / 2, size=(2, len(days))))
    highs = np.maximum(opens, closes) * np.exp(reach[0])
    lows = np.minimum(opens, closes) * np.exp(-reach[1])
    volumes = np.round(rng.lognormal(np.log(2_000_000), 0.4, size=len(days))).astype(np.int64)
    prices = np.round(np.vstack((opens, highs, lows, closes)) * 100).astype(np.int64)
    return days, np.vstack((prices, volumes))


def _bar(index: int, days: np.ndarray, series: np.ndarray) -> Bar:
    open_, high, low, close, volume = (int(v) for v in series[:, index])
    return Bar(
        date=days[index].astype(date),
        open=Decimal(open_) * CENT,
        high=Decimal(high) * CENT,
        low=Decimal(low) * CENT,
        close=Decimal(close) * CENT,
        adj_close=Decimal(close) * CENT,
        volume=volume,
    )


class SimulatedProvider:
    name = "simulated"

    async def ticker_info(self, ticker: str) -> TickerInfo:
        if not is_known(ticker):
            raise UnknownTicker(details={"ticker": ticker})
        days, _ = _series(ticker)
        name = NAMED_TICKERS.get(ticker, f"Simulated Company {ticker.removeprefix('SIM')}")
        return TickerInfo(
            ticker=ticker,
            name=name,
            exchange="SIM",
            asset_type="etf" if ticker in ETFS else "stock",
            currency="USD",
            description=f"{name} (simulated prices)",
            start_date=days[0].astype(date),
            end_date=min(days[-1].astype(date), datetime.now(UTC).date()),
        )

    async def daily_bars(self, ticker: str, start: date, end: date) -> list[Bar]:
        if not is_known(ticker):
            raise UnknownTicker(details={"ticker": ticker})
        days, closes = _series(ticker)
        end = min(end, datetime.now(UTC).date())
        lo, hi = (
            np.searchsorted(days, np.datetime64(start)),
            np.searchsorted(days, np.datetime64(end), side="right"),
        )
        return [_bar(i, days, closes) for i in range(lo, hi)]

    async def latest_quote(self, ticker: str) -> Quote:
        now = datetime.now(UTC)
        bars = await self.daily_bars(ticker, now.date() - timedelta(days=7), now.date())
        last = bars[-1]
        previous = bars[-2].close if len(bars) > 1 else None
        return Quote(ticker=ticker, price=last.close, as_of=now, previous_close=previous)

    async def aclose(self) -> None:
        return None

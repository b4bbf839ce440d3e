"""The offline provider: deterministic prices for a fixed list of tickers, business days only.

Every bar is labelled `simulated`. A ticker's series is one seeded random walk from
SERIES_START, so the same ticker and date always give the same bar whatever range is asked.
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


@lru_cache(maxsize=2048)
def _series(ticker: str) -> tuple[np.ndarray, np.ndarray]:
    """Business days and closes (in cents) of one ticker's whole simulated history."""
    days = np.arange(
        np.datetime64(SERIES_START), np.datetime64(SERIES_END) + 1, dtype="datetime64[D]"
    )
    days = days[np.is_busday(days)]
    rng = np.random.default_rng(_seed(ticker))
    start_price = 20 + rng.random() * 280
    drift, vol = 0.0003, 0.01 + rng.random() * 0.015
    walk = np.cumsum(rng.normal(drift, vol, size=len(days)))
    closes = np.maximum(np.round(start_price * np.exp(walk) * 100), 1).astype(np.int64)
    return days, closes


def _bar(ticker: str, index: int, days: np.ndarray, closes: np.ndarray) -> Bar:
    close = int(closes[index])
    prev = int(closes[index - 1]) if index else close
    spread = max(close // 100, 1)
    high, low = max(close, prev) + spread, max(min(close, prev) - spread, 1)
    close_d = Decimal(close) * CENT
    return Bar(
        date=days[index].astype(date),
        open=Decimal(prev) * CENT,
        high=Decimal(high) * CENT,
        low=Decimal(low) * CENT,
        close=close_d,
        adj_close=close_d,
        volume=1_000_000 + (_seed(f"{ticker}{index}") % 9_000_000),
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
        return [_bar(ticker, i, days, closes) for i in range(lo, hi)]

    async def latest_quote(self, ticker: str) -> Quote:
        now = datetime.now(UTC)
        bars = await self.daily_bars(ticker, now.date() - timedelta(days=7), now.date())
        last = bars[-1]
        previous = bars[-2].close if len(bars) > 1 else None
        return Quote(ticker=ticker, price=last.close, as_of=now, previous_close=previous)

    async def aclose(self) -> None:
        return None

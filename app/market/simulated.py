"""The offline provider: deterministic prices for a fixed list of tickers, business days only.

Every bar is labelled `simulated`. A ticker's series is generated whole from a seed
(SERIES_START on), so the same ticker and date always give the same bar whatever range is
asked. Prices are plausible: tens to hundreds, 15-45 % yearly volatility (index funds 16 %),
a drift of a few percent a year, consistent OHLC and volume.

A few tickers split (SPLITS) and some pay quarterly dividends (DIVIDEND_PAYERS). The generated
series is the split-adjusted one: the prices as traded before a split are it times the
split's to/from, the volumes it divided by that. `adj_close` is adjusted for the splits and
dividends up to today as Tiingo's is (CRSP factors), so it changes when a dividend goes ex.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

import numpy as np

from app.market.provider import Action, ActionType, Bar, Quote, TickerInfo, UnknownTicker

SERIES_START = date(1995, 1, 2)
SERIES_END = date(2040, 12, 31)
CENT = Decimal("0.01")
ADJUSTED_PLACE = Decimal("0.0001")
ZERO, ONE = Decimal(0), Decimal(1)

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

# Splits by ex-date: (ex-date, new shares, old shares). The named ones are real; AMZN's 20-for-1
# of 2022 is left out (its simulated price would have traded near 7,000 before it).
# SIM950, beyond the tickers the benchmarks hold, has a reverse split.
SPLITS: dict[str, tuple[tuple[date, int, int], ...]] = {
    "AAPL": ((date(2014, 6, 9), 7, 1), (date(2020, 8, 31), 4, 1)),
    "NVDA": ((date(2021, 7, 20), 4, 1), (date(2024, 6, 10), 10, 1)),
    "TSLA": ((date(2020, 8, 31), 5, 1), (date(2022, 8, 25), 3, 1)),
    "GOOGL": ((date(2022, 7, 18), 20, 1),),
    "WMT": ((date(2024, 2, 26), 3, 1),),
    "NFLX": ((date(2025, 11, 17), 10, 1),),
    "SIM950": ((date(2023, 3, 1), 1, 10),),
}
# Quarterly payers: ex-dates on the second Friday of these months (a weekday, so a business
# day here), paid a week later; each dividend is 0.4-0.8 % (by ticker) of the year's first
# close, the same all year in split-adjusted terms.
DIVIDEND_PAYERS = frozenset(
    {"AAPL", "MSFT", "KO", "PG", "JNJ", "XOM", "JPM", "SPY", "VTI", "SIM001", "SIM002", "SIM003"}
)
DIVIDEND_MONTHS = (2, 5, 8, 11)
FRIDAY = 4
PAY_DELAY = timedelta(days=7)


def is_known(ticker: str) -> bool:
    if ticker in NAMED_TICKERS:
        return True
    suffix = ticker.removeprefix(NUMBERED_PREFIX)
    return ticker.startswith(NUMBERED_PREFIX) and len(suffix) == 3 and suffix.isdigit()


SECTORS: dict[str, tuple[str, ...]] = {
    "Information Technology": ("AAPL", "MSFT", "NVDA", "INTC", "AMD", "CSCO", "ORCL", "IBM"),
    "Communication Services": ("GOOGL", "META", "DIS", "NFLX"),
    "Consumer Discretionary": ("AMZN", "TSLA", "HD", "MCD", "NKE"),
    "Consumer Staples": ("WMT", "PG", "KO", "PEP"),
    "Financials": ("BRK.B", "JPM", "V", "BAC", "GS"),
    "Health Care": ("JNJ", "UNH", "PFE", "MRK"),
    "Energy": ("XOM", "CVX"),
    "Industrials": ("BA", "CAT"),
}
SECTOR_OF = {ticker: sector for sector, tickers in SECTORS.items() for ticker in tickers}


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


def _generated(ticker: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Business days, split-adjusted open, high, low and close (dollars) and volume."""
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
    volumes = np.round(rng.lognormal(np.log(2_000_000), 0.4, size=len(days)))
    return days, np.vstack((opens, highs, lows, closes)), volumes


@dataclass(frozen=True, slots=True)
class _Series:
    """One ticker's whole history: its days; per day (a column each) the open, high, low
    and close as traded (cents) and volume; its actions, and by day index what bars carry."""

    days: np.ndarray
    values: np.ndarray
    actions: tuple[Action, ...]
    split_factors: dict[int, Decimal]
    dividends: dict[int, Decimal]
    # Per day: the later splits' to/from times the CRSP factors of the dividends through
    # it; adj_close / close = factors[today] / factors[day]. None without any action.
    factors: np.ndarray | None


def _index(days: np.ndarray, day: date) -> int:
    return int(np.searchsorted(days, np.datetime64(day)))


def _splits(ticker: str, days: np.ndarray) -> list[tuple[int, Action]]:
    return [
        (_index(days, day), Action(ActionType.SPLIT, day, split_to=to, split_from=from_))
        for day, to, from_ in SPLITS.get(ticker, ())
    ]


def _later_splits(count: int, splits: list[tuple[int, Action]]) -> np.ndarray:
    """Per day, the product of to/from of the splits after it."""
    later = np.ones(count)
    for index, split in splits:
        later[:index] *= split.split_to / split.split_from
    return later


def _second_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(FRIDAY - first.weekday()) % 7 + 7)


def _dividends(
    ticker: str, days: np.ndarray, closes: np.ndarray, later: np.ndarray
) -> list[tuple[int, Action]]:
    """The quarterly dividends, each with the index of its ex-date."""
    if ticker not in DIVIDEND_PAYERS:
        return []
    rate = 0.004 + (_seed(ticker) % 41) / 10_000
    found = []
    for year in range(SERIES_START.year, SERIES_END.year + 1):
        adjusted = rate * closes[_index(days, date(year, 1, 1))]
        for month in DIVIDEND_MONTHS:
            ex = _second_friday(year, month)
            index = _index(days, ex)
            cash = Decimal(round(adjusted * later[index] * 100)) * CENT
            action = Action(ActionType.CASH_DIVIDEND, ex, cash_amount=cash, pay_date=ex + PAY_DELAY)
            found.append((index, action))
    return found


def _factors(
    later: np.ndarray, raw_closes: np.ndarray, dividends: list[tuple[int, Action]]
) -> np.ndarray:
    """Later splits' to/from times the CRSP factors (1 - dividend / previous close, in the
    ex-date's shares) of the dividends through each day."""
    steps = np.ones(len(later))
    for index, dividend in dividends:
        previous = raw_closes[index - 1] * later[index] / later[index - 1]  # cents
        steps[index] = 1 - float(dividend.cash_amount) * 100 / previous
    factors: np.ndarray = later * np.cumprod(steps)
    return factors


@lru_cache(maxsize=2048)
def _series(ticker: str) -> _Series:
    """A ticker's whole history with its actions, generated once."""
    days, prices, volumes = _generated(ticker)
    splits = _splits(ticker, days)
    later = _later_splits(len(days), splits)
    raw = np.round(prices * 100 * later).astype(np.int64)
    dividends = _dividends(ticker, days, prices[3], later)
    marked = sorted((*splits, *dividends), key=lambda m: (m[0], m[1].type != ActionType.SPLIT))
    return _Series(
        days=days,
        values=np.vstack((raw, np.round(volumes / later).astype(np.int64))),
        actions=tuple(action for _, action in marked),
        split_factors={i: Decimal(a.split_to) / Decimal(a.split_from) for i, a in splits},
        dividends={i: a.cash_amount for i, a in dividends},
        factors=_factors(later, raw[3], dividends) if marked else None,
    )


def _known(ticker: str) -> _Series:
    if not is_known(ticker):
        raise UnknownTicker(details={"ticker": ticker})
    return _series(ticker)


def _bars(series: _Series, lo: int, hi: int, today: date) -> list[Bar]:
    """The bars of the days from lo to hi (excluded), adj_close adjusted up to today."""
    days = series.days[lo:hi].tolist()
    rows = series.values[:, lo:hi].T.tolist()
    ratios = _ratios(series, lo, hi, today)
    columns = zip(range(lo, hi), days, rows, ratios, strict=True)
    return [_bar(series, *column) for column in columns]


def _ratios(series: _Series, lo: int, hi: int, today: date) -> list[float]:
    """adj_close / close of the days from lo to hi (excluded)."""
    if series.factors is None:
        return [1.0] * (hi - lo)
    anchor = np.searchsorted(series.days, np.datetime64(today), side="right") - 1
    ratios: list[float] = (series.factors[anchor] / series.factors[lo:hi]).tolist()
    return ratios


def _bar(series: _Series, index: int, day: date, row: list[int], ratio: float) -> Bar:
    open_, high, low, close, volume = row
    traded = Decimal(close) * CENT
    return Bar(
        date=day,
        open=Decimal(open_) * CENT,
        high=Decimal(high) * CENT,
        low=Decimal(low) * CENT,
        close=traded,
        adj_close=traded if ratio == 1 else Decimal(round(close * ratio * 100)) * ADJUSTED_PLACE,
        volume=volume,
        dividend=series.dividends.get(index, ZERO),
        split_factor=series.split_factors.get(index, ONE),
    )


class SimulatedProvider:
    name = "simulated"

    async def ticker_info(self, ticker: str) -> TickerInfo:
        days = _known(ticker).days
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
            sector=SECTOR_OF.get(ticker),
        )

    async def daily_bars(self, ticker: str, start: date, end: date) -> list[Bar]:
        series = _known(ticker)
        today = datetime.now(UTC).date()
        lo, hi = (
            _index(series.days, start),
            int(np.searchsorted(series.days, np.datetime64(min(end, today)), side="right")),
        )
        return _bars(series, lo, hi, today)

    async def latest_quote(self, ticker: str) -> Quote:
        now = datetime.now(UTC)
        bars = await self.daily_bars(ticker, now.date() - timedelta(days=7), now.date())
        last = bars[-1]
        previous = bars[-2].close if len(bars) > 1 else None
        return Quote(ticker=ticker, price=last.close, as_of=now, previous_close=previous)

    async def corporate_actions(self, ticker: str, start: date, end: date) -> list[Action]:
        end = min(end, datetime.now(UTC).date())
        return [a for a in _known(ticker).actions if start <= a.ex_date <= end]

    async def aclose(self) -> None:
        return None

"""The offline provider's prices: the same bar for a date whatever range is asked, and a
market a newcomer can believe."""

import itertools
import math
import statistics
from datetime import date

import pytest

from app.cli.demo import FUNDS
from app.market.simulated import ETFS, SimulatedProvider

PROVIDER = SimulatedProvider()
DEMO_TICKERS = sorted({t for fund in FUNDS for t in (*fund.tickers, fund.benchmark)})


async def test_a_dates_bar_does_not_depend_on_the_range_asked() -> None:
    whole = {
        b.date: b for b in await PROVIDER.daily_bars("AAPL", date(2020, 1, 1), date(2024, 12, 31))
    }
    for start, end in (
        (date(2022, 3, 1), date(2022, 3, 31)),
        (date(2024, 12, 30), date(2025, 1, 10)),
    ):
        for bar in await PROVIDER.daily_bars("AAPL", start, end):
            assert bar.date not in whole or whole[bar.date] == bar


@pytest.mark.parametrize("ticker", DEMO_TICKERS)
async def test_every_demo_ticker_moves_like_a_listed_one(ticker: str) -> None:
    bars = await PROVIDER.daily_bars(ticker, date(2020, 1, 1), date(2024, 12, 31))
    closes = [float(b.close) for b in bars]
    returns = [math.log(b / a) for a, b in itertools.pairwise(closes)]
    yearly_volatility = statistics.stdev(returns) * math.sqrt(252)
    low, high = (0.12, 0.20) if ticker in ETFS else (0.10, 0.50)
    assert low <= yearly_volatility <= high, yearly_volatility
    assert min(closes) >= 5 and max(closes) <= 2000
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.volume > 0

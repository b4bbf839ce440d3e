"""The offline provider's prices: the same bar for a date whatever range is asked, a market
a newcomer can believe, and splits and dividends the bars and the actions agree on."""

import dataclasses
import itertools
import math
import statistics
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from app.cli.demo import FUNDS
from app.market.provider import Action, ActionType, Bar, actions_of_bars
from app.market.simulated import (
    DIVIDEND_PAYERS,
    ETFS,
    NAMED_TICKERS,
    SPLITS,
    SimulatedProvider,
)

PROVIDER = SimulatedProvider()
DEMO_TICKERS = sorted({t for fund in FUNDS for t in (*fund.tickers, fund.benchmark)})
ACTING_TICKERS = sorted({*SPLITS, *DIVIDEND_PAYERS})
EVER = (date(1970, 1, 1), date(2100, 1, 1))


def yearly_volatility(prices: list[Decimal]) -> float:
    returns = [math.log(b / a) for a, b in itertools.pairwise(map(float, prices))]
    return statistics.stdev(returns) * math.sqrt(252)


def without_pay_date(actions: list[Action]) -> list[Action]:
    """As daily bars carry them: bars have no pay date."""
    return [dataclasses.replace(a, pay_date=None) for a in actions]


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
    adjusted = [b.adj_close for b in bars]
    volatility = yearly_volatility(adjusted)
    low, high = (0.12, 0.20) if ticker in ETFS else (0.10, 0.50)
    assert low <= volatility <= high, volatility
    assert min(adjusted) >= 5 and max(adjusted) <= 2000
    assert min(b.close for b in bars) >= 1 and max(b.close for b in bars) <= 5000
    for bar in bars:
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high
        assert bar.volume > 0


@pytest.mark.parametrize("ticker", sorted(NAMED_TICKERS))
async def test_named_tickers_stay_plausible_as_traded_and_adjusted(ticker: str) -> None:
    bars = await PROVIDER.daily_bars(ticker, date(2000, 1, 1), date(2026, 12, 31))
    assert 0.10 <= yearly_volatility([b.adj_close for b in bars]) <= 0.50
    closes = [b.close for b in bars]
    assert min(closes) >= 1 and max(closes) <= 5000
    assert all(b.close == b.close.quantize(Decimal("0.01")) for b in bars)  # whole cents
    assert bars[-1].adj_close == bars[-1].close  # adjusted up to today


@pytest.mark.parametrize("ticker", [*ACTING_TICKERS, "SIM500", "QQQ"])
async def test_the_actions_of_a_range_are_those_its_bars_carry(ticker: str) -> None:
    for start, end in (
        (date(1995, 1, 1), date(2026, 12, 31)),
        (date(2020, 8, 1), date(2024, 7, 1)),
    ):
        bars = await PROVIDER.daily_bars(ticker, start, end)
        actions = await PROVIDER.corporate_actions(ticker, start, end)
        assert without_pay_date(actions) == actions_of_bars(bars)
        assert [a.ex_date for a in actions] == sorted(a.ex_date for a in actions)


@pytest.mark.parametrize("ticker", ["AAPL", "NVDA", "KO", "SIM950", "SIM001"])
async def test_the_actions_do_not_depend_on_the_range_asked(ticker: str) -> None:
    every = await PROVIDER.corporate_actions(ticker, *EVER)
    assert every and max(a.ex_date for a in every) <= datetime.now(UTC).date()
    for start, end in (
        (date(2014, 6, 9), date(2014, 6, 9)),
        (date(2020, 1, 1), date(2020, 12, 31)),
        (date(2023, 2, 1), date(2023, 11, 30)),
        (date(2024, 1, 1), date(2100, 1, 1)),
    ):
        asked = await PROVIDER.corporate_actions(ticker, start, end)
        assert asked == [a for a in every if start <= a.ex_date <= end]


async def test_the_split_schedule() -> None:
    aapl = await PROVIDER.corporate_actions("AAPL", *EVER)
    assert [a for a in aapl if a.type == ActionType.SPLIT] == [
        Action(ActionType.SPLIT, date(2014, 6, 9), split_to=7, split_from=1),
        Action(ActionType.SPLIT, date(2020, 8, 31), split_to=4, split_from=1),
    ]
    assert await PROVIDER.corporate_actions("SIM950", *EVER) == [
        Action(ActionType.SPLIT, date(2023, 3, 1), split_to=1, split_from=10)
    ]
    [bar] = await PROVIDER.daily_bars("SIM950", date(2023, 3, 1), date(2023, 3, 1))
    assert bar.split_factor == Decimal("0.1") and str(bar.split_factor) == "0.1"
    assert await PROVIDER.corporate_actions("SIM500", *EVER) == []


def around(bars: list[Bar], day: date) -> tuple[Bar, Bar]:
    [index] = [i for i, b in enumerate(bars) if b.date == day]
    return bars[index - 1], bars[index]


@pytest.mark.parametrize(
    ("ticker", "day", "to", "from_"),
    [(t, *split) for t, splits in SPLITS.items() for split in splits],
)
async def test_a_split_moves_the_close_as_traded_but_not_the_adjusted_one(
    ticker: str, day: date, to: int, from_: int
) -> None:
    bars = await PROVIDER.daily_bars(ticker, day - timedelta(days=10), day)
    before, on = around(bars, day)
    assert on.split_factor == Decimal(to) / Decimal(from_)
    ratio = to / from_
    assert 0.85 <= float(on.close / before.close) * ratio <= 1.18
    assert 0.85 <= float(on.adj_close / before.adj_close) <= 1.18
    assert 0.1 <= on.volume / before.volume / ratio <= 10  # a day's volume varies widely
    for bar in (before, on):
        assert bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high


@pytest.mark.parametrize("ticker", sorted(DIVIDEND_PAYERS))
async def test_dividends_are_quarterly_and_adjust_the_close_as_crsp_does(ticker: str) -> None:
    bars = await PROVIDER.daily_bars(ticker, date(2015, 1, 1), date(2025, 12, 31))
    dividends = [
        a
        for a in await PROVIDER.corporate_actions(ticker, date(2015, 1, 1), date(2025, 12, 31))
        if a.type == ActionType.CASH_DIVIDEND
    ]
    assert len(dividends) == 44
    for dividend in dividends:
        assert dividend.pay_date == dividend.ex_date + timedelta(days=7)
        assert dividend.ex_date.weekday() == 4 and 8 <= dividend.ex_date.day <= 14
        before, on = around(bars, dividend.ex_date)
        assert on.dividend == dividend.cash_amount
        # 0.4-0.8 % of the year's first close; the price moves within the year
        assert 0.002 <= dividend.cash_amount / before.close * on.split_factor <= 0.02
        jump = (on.adj_close / before.adj_close) / (on.close / before.close)
        expected = 1 / (1 - dividend.cash_amount / before.close * on.split_factor)
        assert abs(float(jump - expected)) < 1e-4

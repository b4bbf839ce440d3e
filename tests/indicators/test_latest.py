"""store_latest: each ticker's indicator values on its newest bar, upserted into
indicator_values, equal to TA-Lib's on the whole split-adjusted history."""

import math
from datetime import date

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import create_sessionmaker
from app.indicators.latest import STORED_NAMES, store_latest
from app.indicators.models import IndicatorValue
from app.indicators.screen import screen
from app.market.models import Instrument
from app.market.service import MarketData
from app.state import open_state
from tests.conftest import make_settings
from tests.factories import price_bar
from tests.indicators import history
from tests.indicators.walks import bar, store_walk, talib_last, walk

STORED_COLUMNS = 17  # the close, the volume and the indicators' 15 columns


@pytest.fixture
def market(app: FastAPI) -> MarketData:
    found: MarketData = app.state.shared.market
    return found


async def stored(session: AsyncSession, ticker: str) -> dict[str, tuple[date, float | None]]:
    rows = await session.execute(
        select(IndicatorValue.name, IndicatorValue.date, IndicatorValue.value)
        .join(Instrument, Instrument.id == IndicatorValue.instrument_id)
        .where(Instrument.ticker == ticker)
    )
    return {name: (day, None if v is None else float(v)) for name, day, v in rows.tuples()}


def same(got: float | None, want: float | None) -> bool:
    if want is None or got is None:
        return got is want
    return math.isclose(got, want, rel_tol=1e-9)


async def test_every_column_is_talibs_value_on_the_newest_bar(
    session: AsyncSession, market: MarketData
) -> None:
    walks = {
        ticker: await store_walk(session, ticker, seed)
        for ticker, seed in [("WLKA", 1), ("WLKB", 2)]
    }
    result = await store_latest(session, market, list(walks))
    await session.commit()
    assert result.tickers == ["WLKA", "WLKB"] and result.failed == {}
    for ticker, (days, bars) in walks.items():
        values = await stored(session, ticker)
        want = talib_last(bars)
        assert len(values) == STORED_COLUMNS and set(values) == set(want)
        assert {day for day, _ in values.values()} == {days[-1]}
        # Stored exactly: each reads back as the very float TA-Lib computed.
        assert {n: v for n, (_, v) in values.items()} == want


async def test_the_history_before_a_split_is_adjusted(
    session: AsyncSession, market: MarketData
) -> None:
    await history.store_history(session)
    await store_latest(session, market, [history.TICKER])
    values = await stored(session, history.TICKER)
    bars = history.expected()
    want = talib_last(bars)
    assert values["close"] == (history.DATES[-1], float(history.DAYS[-1].close))
    assert [n for n in want if not same(values[n][1], want[n])] == []


async def test_tickers_read_in_one_pass_each_get_their_own_history(
    session: AsyncSession, market: MarketData
) -> None:
    """A ticker with a split and a shorter one, read together: neither sees the other's bars
    or splits."""
    await history.store_history(session)
    _, short = await store_walk(session, "WLKC", 5, count=120)
    result = await store_latest(session, market, ["WLKC", history.TICKER])
    assert result.tickers == ["WLKC", history.TICKER]
    split = await stored(session, history.TICKER)
    want = talib_last(history.expected())
    assert [n for n in want if not same(split[n][1], want[n])] == []
    assert {n: v for n, (_, v) in (await stored(session, "WLKC")).items()} == talib_last(short)


async def test_an_indicator_still_warming_up_is_stored_as_null(
    session: AsyncSession, market: MarketData
) -> None:
    await store_walk(session, "WLKS", 3, count=150)
    await store_latest(session, market, ["WLKS"])
    values = await stored(session, "WLKS")
    assert values["sma_200"][1] is None and values["sma_50"][1] is not None


async def test_storing_again_after_a_new_bar_updates_each_row_in_place(
    session: AsyncSession, market: MarketData
) -> None:
    days, _ = await store_walk(session, "WLKU", 4, count=100)
    await store_latest(session, market, ["WLKU"], names=["sma_5"])
    longer_days, longer = walk(4, 101)  # the same walk, one bar further
    instrument_id = await session.scalar(select(Instrument.id).where(Instrument.ticker == "WLKU"))
    assert instrument_id is not None and longer_days[:-1] == days
    session.add(price_bar(instrument_id, bar(longer_days[-1], longer, 100)))
    await session.commit()
    await store_latest(session, market, ["WLKU"], names=["sma_5"])
    values = await stored(session, "WLKU")
    assert set(values) == {"close", "volume", "sma_5"}
    assert values["sma_5"] == (longer_days[-1], pytest.approx(longer["close"][-5:].mean()))
    count = select(func.count()).select_from(IndicatorValue)
    assert await session.scalar(count.where(IndicatorValue.instrument_id == instrument_id)) == 3


async def test_a_ticker_that_fails_is_named_and_the_others_are_stored_once(
    session: AsyncSession, market: MarketData
) -> None:
    await store_walk(session, "WLKF", 5)
    result = await store_latest(session, market, ["ZZZZ", "WLKF", "not a ticker", " wlkf"])
    assert result.tickers == ["WLKF", " wlkf"]  # the same instrument's rows, written once
    assert result.failed == {"ZZZZ": "unknown_ticker", "not a ticker": "unknown_ticker"}
    assert len(await stored(session, "WLKF")) == STORED_COLUMNS


def test_the_stored_names_are_the_defaults_and_two_long_averages() -> None:
    assert STORED_NAMES[-2:] == ("sma_50", "sma_200") and len(STORED_NAMES) == 10


async def test_stored_and_screened_on_sqlite_too(sqlite_url: str) -> None:
    """The embedded default: no arrays, so the upsert goes row by row; FILTER works there."""
    settings = make_settings(database_url=sqlite_url, market_data_provider="simulated")
    async with open_state(settings) as state, create_sessionmaker(state.engine)() as session:
        _, bars = await store_walk(session, "WLKQ", 6)
        for _ in range(2):
            await store_latest(session, state.market, ["WLKQ"])
            await session.commit()
        rsi = talib_last(bars)["rsi_14"]
        assert rsi is not None
        [match] = await screen(session, [f"rsi_14>={rsi - 1e-6}", "close>0"], None)
        assert match.ticker == "WLKQ" and match.values["rsi_14"] == pytest.approx(rsi)
        assert await screen(session, [f"rsi_14>{rsi + 1e-6}"], None) == []

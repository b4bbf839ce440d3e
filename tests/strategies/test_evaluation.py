"""POST /strategies/{id}/evaluate: on generated bars, each kind's signals are the rules of
PRODUCT.md computed again bar by bar on TA-Lib's values; evaluating again stores nothing; a
ticker whose data cannot be had is skipped with an error event while the others evaluate."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import talib
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.strategies.models import Strategy
from tests.strategies.helpers import (
    DAYS,
    SMA_AVERAGE,
    all_items,
    analyst_headers,
    as_floats,
    closes,
    create_strategy,
    expected_types,
    same,
    store_bars,
    store_instrument,
)

KINDS = [
    ("sma_cross", {"fast": 5, "slow": 20}),
    ("ema_cross", {"fast": 8, "slow": 21}),
    ("macd_cross", {"fast": 12, "slow": 26, "signal": 9}),
    ("rsi_threshold", {"period": 14, "lower": 35, "upper": 65}),
    ("bollinger_reversion", {"period": 20, "k": 1.5}),
]
FROM = 40  # the range evaluated starts at this bar; the indicators warm up over the history
LAST = len(DAYS) - 1
PRICES = {"TSTA": closes(1), "TSTB": closes(2)}
SMA_5_20 = {"fast": 5, "slow": 20}


async def evaluate(
    client: AsyncClient, headers: dict[str, str], strategy_id: int, start: int, end: int
) -> dict[str, Any]:
    body = {"start": DAYS[start].isoformat(), "end": DAYS[end].isoformat()}
    response = await client.post(f"/strategies/{strategy_id}/evaluate", json=body, headers=headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def wanted(kind: str, params: dict[str, Any], start: int, end: int) -> set[tuple[str, str, str]]:
    """(ticker, date, type) of every BUY and SELL from bar start to bar end."""
    out = set()
    for ticker, prices in PRICES.items():
        types = expected_types(kind, params, as_floats(prices))
        out |= {
            (ticker, DAYS[t].isoformat(), types[t])
            for t in range(start, end + 1)
            if types[t] != "HOLD"
        }
    return out


def bar_of(signal: dict[str, Any]) -> int:
    return DAYS.index(date.fromisoformat(signal["date"]))


@pytest.fixture
async def stored(session: AsyncSession) -> None:
    for ticker, prices in PRICES.items():
        await store_bars(session, ticker, prices)


@pytest.mark.parametrize(("kind", "params"), KINDS)
async def test_signals_are_the_kinds_rule_on_talib_values_on_the_exact_bars(
    app: FastAPI,
    session: AsyncSession,
    client: AsyncClient,
    stored: None,
    kind: str,
    params: dict[str, Any],
) -> None:
    headers = await analyst_headers(app, session)
    strategy = await create_strategy(
        client, headers, kind=kind, params=params, tickers=list(PRICES)
    )
    result = await evaluate(client, headers, strategy["id"], FROM, LAST)
    signals = await all_items(client, f"/strategies/{strategy['id']}/signals", headers)
    want = wanted(kind, params, FROM, LAST)
    assert len(want) >= 4
    assert {(s["ticker"], s["date"], s["type"]) for s in signals} == want
    assert result == {"signals": len(want), "tickers": 2, "errors": []}
    dates = [s["date"] for s in signals]
    assert dates == sorted(dates, reverse=True)
    for s in signals:
        assert Decimal(s["close"]) == PRICES[s["ticker"]][bar_of(s)]
        assert s["status"] == "new" and s["strategy_id"] == strategy["id"]


async def test_a_cross_signal_says_why_with_the_values_it_saw(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    strategy = await create_strategy(
        client, headers, kind="sma_cross", params=SMA_5_20, tickers=["TSTA"]
    )
    await evaluate(client, headers, strategy["id"], 0, LAST)
    close = as_floats(PRICES["TSTA"])
    fast, slow = talib.SMA(close, 5), talib.SMA(close, 20)
    signals = await all_items(client, f"/strategies/{strategy['id']}/signals", headers)
    assert signals
    for s in signals:
        t = bar_of(s)
        way = "above" if s["type"] == "BUY" else "below"
        assert s["reasons"] == [f"SMA(5) {fast[t]:.2f} crossed {way} SMA(20) {slow[t]:.2f}"]
        seen = s["indicators"]
        assert set(seen) == {"sma_5", "sma_20", "sma_5_prev", "sma_20_prev"}
        assert same(seen["sma_5"], fast[t]) and same(seen["sma_20"], slow[t])
        assert same(seen["sma_5_prev"], fast[t - 1]) and same(seen["sma_20_prev"], slow[t - 1])


async def test_threshold_and_band_signals_say_why(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    rsi_params = {"period": 14, "lower": 35, "upper": 65}
    rsi = await create_strategy(
        client, headers, kind="rsi_threshold", params=rsi_params, tickers=["TSTA"]
    )
    bands = await create_strategy(
        client,
        headers,
        kind="bollinger_reversion",
        params={"period": 20, "k": 1.5},
        tickers=["TSTA"],
    )
    close = as_floats(PRICES["TSTA"])
    values = talib.RSI(close, 14)
    upper, _, lower = talib.BBANDS(close, 20, 1.5, 1.5, SMA_AVERAGE)
    for strategy in (rsi, bands):
        await evaluate(client, headers, strategy["id"], 0, LAST)
    for s in await all_items(client, f"/strategies/{rsi['id']}/signals", headers):
        t = bar_of(s)
        side = "below 35" if s["type"] == "BUY" else "above 65"
        assert s["reasons"] == [f"RSI(14) {values[t]:.2f} {side}"]
        assert same(s["indicators"]["rsi_14"], values[t])
    for s in await all_items(client, f"/strategies/{bands['id']}/signals", headers):
        t = bar_of(s)
        band = (
            f"below the lower Bollinger band(20, 1.5) {lower[t]:.2f}"
            if s["type"] == "BUY"
            else f"above the upper Bollinger band(20, 1.5) {upper[t]:.2f}"
        )
        assert s["reasons"] == [f"close {close[t]:.2f} {band}"]
        seen = s["indicators"]
        assert same(seen["bbands_20_1.5_lower"], lower[t])
        assert same(seen["bbands_20_1.5_upper"], upper[t])


async def test_a_crossing_on_the_first_day_of_the_range_reads_the_bar_before_it(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    strategy = await create_strategy(
        client, headers, kind="sma_cross", params=SMA_5_20, tickers=["TSTA"]
    )
    types = expected_types("sma_cross", SMA_5_20, as_floats(PRICES["TSTA"]))
    crossing = next(t for t in range(FROM, LAST) if types[t] != "HOLD")
    result = await evaluate(client, headers, strategy["id"], crossing, crossing)
    signals = await all_items(client, f"/strategies/{strategy['id']}/signals", headers)
    assert result["signals"] == 1
    assert [(s["date"], s["type"]) for s in signals] == [
        (DAYS[crossing].isoformat(), types[crossing])
    ]


async def test_evaluating_again_stores_nothing_new(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    strategy = await create_strategy(
        client, headers, kind="sma_cross", params=SMA_5_20, tickers=list(PRICES)
    )
    url = f"/strategies/{strategy['id']}/signals"
    first = await evaluate(client, headers, strategy["id"], FROM, LAST)
    before = await all_items(client, url, headers)
    again = await evaluate(client, headers, strategy["id"], 0, LAST)
    assert first["signals"] == len(before) > 0
    assert again["signals"] == len(wanted("sma_cross", SMA_5_20, 0, LAST)) - len(before)
    assert (await evaluate(client, headers, strategy["id"], 0, LAST))["signals"] == 0
    assert len(await all_items(client, url, headers)) == len(wanted("sma_cross", SMA_5_20, 0, LAST))
    events = await all_items(client, f"/strategies/{strategy['id']}/events", headers)
    counts = [e["metadata"]["signals"] for e in events if e["type"] == "evaluated"]
    assert counts == [0, again["signals"], first["signals"]]  # newest first


async def test_a_ticker_whose_data_cannot_be_had_is_skipped_with_an_error_event(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    # TESTZZ is known here but the vendor knows nothing of it and no bar is stored;
    # TESTZY is not stored at all and unknown to the vendor (put in behind the API's back).
    await store_instrument(session, "TESTZZ")
    headers = await analyst_headers(app, session)
    strategy = await create_strategy(
        client, headers, kind="sma_cross", params=SMA_5_20, tickers=["TSTA", "TESTZZ"]
    )
    await session.execute(
        update(Strategy)
        .where(Strategy.id == strategy["id"])
        .values(tickers=["TESTZY", "TSTA", "TESTZZ"])
    )
    await session.commit()

    result = await evaluate(client, headers, strategy["id"], FROM, LAST)

    only_a = {s for s in wanted("sma_cross", SMA_5_20, FROM, LAST) if s[0] == "TSTA"}
    assert result["tickers"] == 1 and result["signals"] == len(only_a) > 0
    codes = {(e["ticker"], e["code"]) for e in result["errors"]}
    assert codes == {("TESTZZ", "market_data_stale"), ("TESTZY", "unknown_ticker")}
    signals = await all_items(client, f"/strategies/{strategy['id']}/signals", headers)
    assert {(s["ticker"], s["date"], s["type"]) for s in signals} == only_a
    events = await all_items(client, f"/strategies/{strategy['id']}/events", headers)
    errors = [e for e in events if e["type"] == "error"]
    assert {e["metadata"]["ticker"] for e in errors} == {"TESTZZ", "TESTZY"}
    assert all(e["severity"] == "error" and "not evaluated" in e["message"] for e in errors)
    [evaluated] = [e for e in events if e["type"] == "evaluated"]
    assert evaluated["severity"] == "warning"
    assert evaluated["metadata"]["errors"] == ["TESTZY", "TESTZZ"]
    assert evaluated["metadata"]["tickers"] == 1


async def test_a_range_that_ends_before_it_starts_is_refused(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    strategy = await create_strategy(
        client, headers, kind="sma_cross", params=SMA_5_20, tickers=["TSTA"]
    )
    body = {"start": DAYS[LAST].isoformat(), "end": DAYS[0].isoformat()}
    response = await client.post(
        f"/strategies/{strategy['id']}/evaluate", json=body, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"

"""GET /market/tickers/{ticker}/indicators: TA-Lib's values on the split-adjusted history."""

import math
from datetime import timedelta
from typing import Any

import pytest
import talib
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.indicators.spec import DEFAULT_NAMES
from tests.factories import bearer, make_user
from tests.indicators.history import (
    DATES,
    DAYS,
    EX_DATE,
    SPLIT_AT,
    TICKER,
    Floats,
    expected,
    store_history,
)

URL = f"/market/tickers/{TICKER}/indicators"
SMA = talib.MA_Type.SMA


def talib_columns(names: str) -> dict[str, Floats]:
    """What TA-Lib gives on the adjusted arrays, by the column each name promises."""
    b = expected()
    h, lo, c, v = (b[f] for f in ("high", "low", "close", "volume"))
    out: dict[str, Floats] = dict(b)
    for name in names.split(","):
        kind, *params = name.split("_")
        n = [float(p) if "." in p else int(p) for p in params]
        if kind == "sma":
            out[name] = talib.SMA(c, n[0])
        elif kind == "ema":
            out[name] = talib.EMA(c, n[0])
        elif kind == "rsi":
            out[name] = talib.RSI(c, n[0])
        elif kind == "atr":
            out[name] = talib.ATR(h, lo, c, n[0])
        elif kind == "obv":
            out[name] = talib.OBV(c, v)
        elif kind == "macd":
            line, signal, hist = talib.MACD(c, n[0], n[1], n[2])
            out |= {name: line, f"{name}_signal": signal, f"{name}_hist": hist}
        elif kind == "bbands":
            upper, middle, lower = talib.BBANDS(c, n[0], n[1], n[1], SMA)
            out |= {f"{name}_upper": upper, f"{name}_middle": middle, f"{name}_lower": lower}
        elif kind == "stoch":
            k, d = talib.STOCH(h, lo, c, n[0], n[1], SMA, n[2], SMA)
            out |= {f"{name}_k": k, f"{name}_d": d}
    return out


def same(got: float | None, want: float) -> bool:
    if math.isnan(want):
        return got is None
    return got is not None and math.isclose(got, want, rel_tol=1e-9)


def mismatches(items: list[dict[str, Any]], want: dict[str, Floats], at: int = 0) -> list[str]:
    """Every (date, column) whose value differs from `want` at row `at` + i."""
    return [
        f"{row['date']} {column}: {row[column]} != {values[at + i]}"
        for i, row in enumerate(items)
        for column, values in want.items()
        if not same(row[column], float(values[at + i]))
    ]


@pytest.fixture
async def headers(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    await store_history(session)
    return await bearer(app, await make_user(session))


async def indicators(client: AsyncClient, headers: dict[str, str], **params: str) -> Any:
    response = await client.get(
        URL, params={"end": DATES[-1].isoformat(), **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


ODD_ONES = ("sma_1", "ema_5", "rsi_2", "atr_1", "macd_3_10_1", "bbands_7_2.5", "stoch_5_1_4")
ALL = ",".join((*DEFAULT_NAMES, *ODD_ONES))


async def test_every_indicator_is_talib_on_the_adjusted_history(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    body = await indicators(client, headers, names=ALL, start=DATES[0].isoformat())
    want = talib_columns(ALL)
    assert (body["ticker"], body["history_start"]) == (TICKER, DATES[0].isoformat())
    assert (body["provider"], body["stale"]) == ("simulated", False)
    assert [row["date"] for row in body["items"]] == [d.isoformat() for d in DATES]
    assert list(body["items"][0]) == ["date", *want]
    assert mismatches(body["items"], want) == []
    assert body["items"][0]["sma_20"] is None and body["items"][19]["sma_20"] is not None


async def test_bars_before_a_split_are_in_the_shares_of_after_it(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    body = await indicators(client, headers, names="obv", start=DATES[SPLIT_AT - 1].isoformat())
    before, on = body["items"][:2]
    assert on["date"] == EX_DATE.isoformat()
    # Stored as traded: twice these prices and half these volumes.
    assert before["close"] == float(DAYS[SPLIT_AT - 1].close)
    assert before["volume"] == DAYS[SPLIT_AT - 1].volume
    assert on["close"] == float(DAYS[SPLIT_AT].close)


async def test_a_range_has_the_values_the_whole_history_has_on_its_dates(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    first, last = 250, 300
    part = await indicators(
        client, headers, start=DATES[first].isoformat(), end=DATES[last].isoformat()
    )
    whole = await indicators(client, headers, start=DATES[0].isoformat())
    assert part["items"] == whole["items"][first : last + 1]
    assert mismatches(part["items"], talib_columns(",".join(DEFAULT_NAMES)), at=first) == []


async def test_the_defaults_are_a_year_of_the_usual_indicators(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    body = await indicators(client, headers)
    year_before = DATES[-1] - timedelta(days=365)
    assert [row["date"] for row in body["items"]] == [
        d.isoformat() for d in DATES if d >= year_before
    ]
    assert list(body["items"][0]) == ["date", *talib_columns(",".join(DEFAULT_NAMES))]


async def test_dates_the_vendor_could_not_confirm_make_the_answer_stale(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    later = (DATES[-1] + timedelta(days=7)).isoformat()
    response = await client.get(URL, params={"names": "sma_3", "end": later}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["stale"] is True
    assert response.headers["X-Data-Stale"] == "true"


async def test_splits_not_known_yet_are_learnt_before_adjusting(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    """The simulated AAPL split 4-for-1 on 2020-08-31; nothing of it is stored beforehand."""
    params = {"names": "sma_3", "start": "2020-08-27", "end": "2020-09-01"}
    response = await client.get("/market/tickers/AAPL/indicators", params=params, headers=headers)
    assert response.status_code == 200, response.text
    closes = [row["close"] for row in response.json()["items"]]
    assert len(closes) == 4 and max(closes) / min(closes) < 1.5


@pytest.mark.parametrize(
    "name",
    ["foo_3", "sma_0", "macd_26_12_9", "bbands_20_x", "rsi_1", "bbands_20_0", "obv_3", "sma"],
)
async def test_a_bad_name_or_parameter_is_an_invalid_indicator(
    client: AsyncClient, headers: dict[str, str], name: str
) -> None:
    response = await client.get(URL, params={"names": f"sma_20,{name}"}, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_indicator"
    assert error["details"]["name"] == name and error["details"]["reason"]
    assert name in error["message"]


async def test_too_long_a_list_of_names_is_an_invalid_indicator(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    names = ",".join(f"sma_{n}" for n in range(1, 501))
    response = await client.get(URL, params={"names": names}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_indicator"


async def test_start_after_end_is_refused(client: AsyncClient, headers: dict[str, str]) -> None:
    params = {"start": "2023-02-01", "end": "2023-01-01"}
    response = await client.get(URL, params=params, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_an_unknown_ticker_is_404(client: AsyncClient, headers: dict[str, str]) -> None:
    response = await client.get("/market/tickers/ZZZZ/indicators", headers=headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_ticker"


async def test_anonymous_callers_are_refused(client: AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 401

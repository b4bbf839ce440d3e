"""GET /market/screen: the tickers whose latest stored values meet every `where`, from
indicator_values in one query."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.indicators.latest import store_latest
from app.indicators.models import IndicatorValue
from app.market.models import Instrument
from tests.factories import bearer, make_user
from tests.indicators.walks import store_walk, talib_last

DAY = date(2026, 11, 20)
# Each made-up ticker's latest stored values (a column left out was never stored).
STORED: dict[str, dict[str, float | None]] = {
    "SCRA": {"rsi_14": 25.5, "close": 120.0, "sma_200": 100.0, "volume": 2e6},
    "SCRB": {"rsi_14": 28.0, "close": 90.0, "sma_200": 100.0, "volume": 5e5},
    "SCRC": {"rsi_14": 71.25, "close": 150.0, "sma_200": 110.0, "volume": 1e6},
    "SCRD": {"rsi_14": None, "close": 10.0, "sma_200": None, "volume": 1e6},
    "SCRE": {"close": 55.0, "volume": 3e6},
}


async def store_values(session: AsyncSession) -> None:
    for ticker, values in STORED.items():
        instrument = Instrument(ticker=ticker, name=ticker, currency="USD", provider="simulated")
        session.add(instrument)
        await session.flush()
        session.add_all(
            IndicatorValue(
                instrument_id=instrument.id,
                name=name,
                date=DAY,
                value=None if value is None else Decimal(repr(value)),
            )
            for name, value in values.items()
        )
    await session.commit()


@pytest.fixture
async def headers(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    await store_values(session)
    return await bearer(app, await make_user(session))


async def screen(client: AsyncClient, headers: dict[str, str], *where: str, **params: str) -> Any:
    response = await client.get(
        "/market/screen", params={"where": list(where), **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    if not params.keys() & {"limit", "offset"}:
        assert body["total"] == len(body["items"])
    return body


def tickers(body: Any) -> list[str]:
    return [item["ticker"] for item in body["items"]]


async def test_one_condition_keeps_the_tickers_meeting_it_sorted(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    body = await screen(client, headers, "rsi_14<30")
    assert body["items"] == [
        {"ticker": "SCRA", "date": DAY.isoformat(), "values": {"rsi_14": 25.5}},
        {"ticker": "SCRB", "date": DAY.isoformat(), "values": {"rsi_14": 28.0}},
    ]


async def test_several_conditions_are_all_required(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    body = await screen(client, headers, "rsi_14 < 30", "close>sma_200", "volume >= 1e6")
    assert tickers(body) == ["SCRA"]
    assert body["items"][0]["values"] == {
        "rsi_14": 25.5,
        "close": 120.0,
        "sma_200": 100.0,
        "volume": 2e6,
    }


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("close>sma_200", ["SCRA", "SCRC"]),
        ("close<=sma_200", ["SCRB"]),
        ("sma_200=100", ["SCRA", "SCRB"]),
        ("sma_200!=100", ["SCRC"]),
        ("rsi_14>=71.25", ["SCRC"]),
        ("rsi_14>-1", ["SCRA", "SCRB", "SCRC"]),  # null (warming up) meets nothing
        ("volume>.5e6", ["SCRA", "SCRC", "SCRD", "SCRE"]),
        ("sma_50>0", []),  # a column never stored
    ],
)
async def test_each_operator_against_a_number_or_a_column(
    client: AsyncClient, headers: dict[str, str], where: str, expected: list[str]
) -> None:
    assert tickers(await screen(client, headers, where)) == expected


async def test_a_screen_is_paged_like_every_list(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    every = tickers(await screen(client, headers, "volume>.5e6"))
    page = await screen(client, headers, "volume>.5e6", limit="2", offset="1")
    assert (page["total"], page["limit"], page["offset"]) == (len(every), 2, 1)
    assert tickers(page) == every[1:3]


async def test_tickers_limit_the_universe(client: AsyncClient, headers: dict[str, str]) -> None:
    body = await screen(client, headers, "close>0", tickers=" scrc, SCRA,ZZZZ,SCRA")
    assert tickers(body) == ["SCRA", "SCRC"]


async def test_values_of_a_column_not_stored_are_null(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    body = await screen(client, headers, "close>50", "volume>0", tickers="SCRD,SCRE")
    assert body["items"] == [
        {"ticker": "SCRE", "date": DAY.isoformat(), "values": {"close": 55.0, "volume": 3e6}}
    ]
    body = await screen(client, headers, "close>sma_200", tickers="SCRD,SCRE")
    assert body == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_the_screen_is_one_query(
    app: FastAPI, client: AsyncClient, headers: dict[str, str], db: AsyncConnection
) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    sync_engine = db.sync_engine
    event.listen(sync_engine, "before_cursor_execute", record)
    try:
        await screen(client, headers, "rsi_14<30", "close>sma_200", tickers="SCRA,SCRB")
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)
    [query] = [s for s in statements if "indicator_values" in s]
    assert "30" not in query and "SCRA" not in query  # bound, never written into the SQL


async def test_the_values_stored_after_a_close_are_screened(
    client: AsyncClient, headers: dict[str, str], session: AsyncSession, app: FastAPI
) -> None:
    walks = {t: (await store_walk(session, t, seed))[1] for t, seed in [("WLKX", 7), ("WLKY", 8)]}
    await store_latest(session, app.state.shared.market, list(walks))
    await session.commit()
    rsi = {t: talib_last(bars)["rsi_14"] for t, bars in walks.items()}
    low = min(rsi, key=lambda t: rsi[t] or 0)
    body = await screen(client, headers, f"rsi_14<={rsi[low]}", "close>0", tickers="WLKX,WLKY")
    assert tickers(body) == [low]
    assert body["items"][0]["values"]["rsi_14"] == rsi[low]


@pytest.mark.parametrize(
    "where",
    ["foo_3<1", "bbands_20_2<1", "rsi_14<sma_0", "macd_26_12_9_hist>0", "open>1", "RSI_14<30"],
)
async def test_a_bad_column_is_an_invalid_indicator(
    client: AsyncClient, headers: dict[str, str], where: str
) -> None:
    response = await client.get("/market/screen", params={"where": where}, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_indicator" and error["details"]["reason"]


@pytest.mark.parametrize(
    "where",
    [
        "rsi_14<<30",
        "rsi_14==30",
        "rsi_14=>30",
        "rsi_14<>30",
        "rsi_14 30",
        "rsi_14<",
        "<30",
        "30>rsi_14",
        "rsi_14<30.5.5",
        "rsi_14<1e999",
        "rsi_14<30;drop",
        "rsi_14<'30'",
        "",
    ],
)
async def test_a_malformed_condition_is_an_invalid_screen(
    client: AsyncClient, headers: dict[str, str], where: str
) -> None:
    response = await client.get("/market/screen", params={"where": where}, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_screen" and error["details"]["reason"]


@pytest.mark.parametrize(
    "params",
    [{}, {"where": ["close>0"] * 21}, {"where": "close>0", "tickers": " , "}],
    ids=["no where", "too many", "no tickers"],
)
async def test_no_condition_too_many_or_an_empty_universe_is_an_invalid_screen(
    client: AsyncClient, headers: dict[str, str], params: dict[str, Any]
) -> None:
    response = await client.get("/market/screen", params=params, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_screen"


async def test_anonymous_callers_are_refused(client: AsyncClient) -> None:
    response = await client.get("/market/screen", params={"where": "rsi_14<30"})
    assert response.status_code == 401

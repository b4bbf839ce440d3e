"""The market routes' HTTP contract: provider and freshness, stale answers, errors, permissions."""

import asyncio
from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest
import respx
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.core.cache import RedisCache
from app.market.service import RECENT_ANSWER_SECONDS, MarketData
from tests.factories import bearer, make_user
from tests.market.conftest import NOTHING_LISTENS, TIINGO_URL, MarketFactory, vendor_body

META = f"{TIINGO_URL}/tiingo/daily/GOOGL"
PRICES = f"{TIINGO_URL}/tiingo/daily/GOOGL/prices"
IEX = f"{TIINGO_URL}/iex/AAPL"


def ok(name: str) -> httpx.Response:
    return httpx.Response(
        200, content=vendor_body(name), headers={"Content-Type": "application/json"}
    )


def weekday_bars(request: httpx.Request) -> httpx.Response:
    """Tiingo answering any range with a bar on each of its weekdays."""
    start = date.fromisoformat(request.url.params["startDate"])
    end = date.fromisoformat(request.url.params["endDate"])
    days = [date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1)]
    rows = [
        {"date": f"{d}T00:00:00.000Z", "open": 10.5, "high": 11.25, "low": 10.0, "close": 11.0,
         "volume": 1000, "adjClose": 10.75, "adjHigh": 11, "adjLow": 9.8, "adjOpen": 10.2,
         "adjVolume": 1000, "divCash": 0.0, "splitFactor": 1.0}
        for d in days if d.weekday() < 5
    ]  # fmt: skip
    return httpx.Response(200, json=rows)


@pytest.fixture
async def headers(app: FastAPI, session: AsyncSession) -> dict[str, str]:
    return await bearer(app, await make_user(session, Role.VIEWER))


UseMarket = Callable[[MarketData], None]


@pytest.fixture
def use_market(app: FastAPI) -> Iterator[UseMarket]:
    """Serve the routes from a MarketData of the test's choosing, then put the app's back."""
    original = app.state.shared.market

    def swap(market: MarketData) -> None:
        app.state.shared.market = market

    yield swap
    app.state.shared.market = original


@pytest.fixture(autouse=True)
def simulated(build: MarketFactory, use_market: UseMarket) -> MarketData:
    """The simulated provider, whose stored prices are deleted after each test."""
    market = build("simulated")
    use_market(market)
    return market


@pytest.fixture
def tiingo(build: MarketFactory, use_market: UseMarket) -> MarketData:
    market = build("tiingo")
    use_market(market)
    return market


async def test_ticker_metadata_says_which_provider_answered_and_when(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/market/tickers/aapl", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["ticker"] == "AAPL" and body["name"] == "Apple Inc."
    assert body["provider"] == "simulated" and body["stale"] is False
    assert body["fetched_at"] and 0 <= body["age_seconds"] < 60
    assert "X-Data-Stale" not in response.headers


async def test_an_unknown_ticker_is_404(client: AsyncClient, headers: dict[str, str]) -> None:
    for path in ("/market/tickers/ZZZZ", "/market/tickers/ZZZZ/prices", "/market/tickers/a%20b"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "unknown_ticker"


async def test_prices_follow_the_price_bar_contract_with_decimals_as_strings(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    params = {"start": "2024-01-01", "end": "2024-01-12"}
    response = await client.get("/market/tickers/MSFT/prices", params=params, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert {"ticker", "provider", "stale", "fetched_at", "age_seconds", "items"} <= set(body)
    assert body["ticker"] == "MSFT" and body["provider"] == "simulated" and not body["stale"]
    bar = body["items"][0]
    assert set(bar) == {"date", "open", "high", "low", "close", "adj_close", "volume"}
    assert isinstance(bar["close"], str) and "E" not in bar["close"]
    assert isinstance(bar["volume"], int)
    assert len(body["items"]) == 10 and body["items"][0]["date"] == "2024-01-01"


async def test_prices_default_to_the_last_year(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/market/tickers/MSFT/prices", headers=headers)
    body = response.json()
    assert response.status_code == 200
    span = date.fromisoformat(body["end"]) - date.fromisoformat(body["start"])
    assert span.days == 365 and 240 <= len(body["items"]) <= 262


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2024-02-01", "end": "2024-01-01"},
        {"start": "1990-01-01", "end": "2024-01-01"},
        {"start": "2024-13-01"},
    ],
)
async def test_a_backwards_too_long_or_malformed_range_is_422(
    client: AsyncClient, headers: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/market/tickers/MSFT/prices", params=params, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_quotes_answer_in_the_order_asked_with_per_ticker_errors(
    client: AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/market/quotes?tickers=msft, ZZZZ,AAPL,", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert [q["ticker"] for q in body["items"]] == ["MSFT", "AAPL"]
    assert body["errors"] == [
        {
            "ticker": "ZZZZ",
            "error": {"code": "unknown_ticker", "message": body["errors"][0]["error"]["message"]},
        }
    ]
    quote = body["items"][0]
    assert quote["provider"] == "simulated" and quote["stale"] is False and not body["stale"]
    assert isinstance(quote["price"], str) and quote["as_of"]


@pytest.mark.parametrize("tickers", ["", " , ", ",".join(f"SIM{i:03d}" for i in range(51))])
async def test_no_ticker_or_more_than_fifty_is_422(
    client: AsyncClient, headers: dict[str, str], tickers: str
) -> None:
    response = await client.get("/market/quotes", params={"tickers": tickers}, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_fifty_quotes_are_answered(client: AsyncClient, headers: dict[str, str]) -> None:
    tickers = ",".join(f"SIM{i:03d}" for i in range(50))
    response = await client.get("/market/quotes", params={"tickers": tickers}, headers=headers)
    assert response.status_code == 200 and len(response.json()["items"]) == 50


async def test_refresh_needs_market_refresh(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    for role, status in ((Role.VIEWER, 403), (Role.ANALYST, 403), (Role.PORTFOLIO_MANAGER, 200)):
        headers = await bearer(app, await make_user(session, role))
        response = await client.post("/market/tickers/AAPL/refresh", headers=headers)
        assert response.status_code == status, role
    body = response.json()
    assert body["ticker"] == "AAPL" and body["provider"] == "simulated" and body["items"]
    assert (date.fromisoformat(body["end"]) - date.fromisoformat(body["start"])).days == 10


async def test_refresh_of_an_unknown_ticker_is_404(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.ADMIN))
    response = await client.post("/market/tickers/ZZZZ/refresh", headers=headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_ticker"


async def test_market_routes_need_a_signed_in_user(client: AsyncClient) -> None:
    response = await client.get("/market/quotes?tickers=AAPL")
    assert response.status_code == 401


async def test_vendor_failure_serves_stored_bars_stale_with_the_header(
    client: AsyncClient, headers: dict[str, str], tiingo: MarketData, vendor: respx.MockRouter
) -> None:
    vendor.get(META).mock(return_value=ok("tiingo/tiingo_meta.json"))
    prices = vendor.get(PRICES).mock(side_effect=weekday_bars)
    path = "/market/tickers/GOOGL/prices"
    fresh = await client.get(
        path, params={"start": "2015-01-05", "end": "2015-01-09"}, headers=headers
    )
    assert fresh.status_code == 200 and fresh.json()["provider"] == "tiingo"
    assert "X-Data-Stale" not in fresh.headers
    prices.mock(side_effect=None, return_value=httpx.Response(500))
    stale = await client.get(
        path, params={"start": "2015-01-01", "end": "2015-01-16"}, headers=headers
    )
    assert stale.status_code == 200
    assert stale.headers["X-Data-Stale"] == "true"
    body = stale.json()
    assert body["stale"] is True and body["age_seconds"] >= 0 and len(body["items"]) == 5


async def test_an_expired_quote_is_served_stale_when_the_vendor_fails(
    client: AsyncClient,
    headers: dict[str, str],
    tiingo: MarketData,
    vendor: respx.MockRouter,
    cache: RedisCache,
) -> None:
    route = vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    fresh = await client.get("/market/quotes?tickers=AAPL", headers=headers)
    assert fresh.status_code == 200 and fresh.json()["items"][0]["price"] == "148.6"
    await cache.client.delete("quote:AAPL")  # its few seconds are over,
    tiingo.recent_quotes.clear()  # and the process's second too
    route.mock(return_value=httpx.Response(500))
    stale = await client.get("/market/quotes?tickers=AAPL", headers=headers)
    assert stale.status_code == 200 and stale.headers["X-Data-Stale"] == "true"
    body = stale.json()
    assert body["stale"] is True and body["items"][0]["stale"] is True
    assert body["items"][0]["price"] == "148.6" and body["errors"] == []
    route.mock(return_value=ok("tiingo/tiingo_iex.json"))
    recovered = await client.get("/market/quotes?tickers=AAPL", headers=headers)  # not kept
    assert "X-Data-Stale" not in recovered.headers and recovered.json()["stale"] is False


async def test_the_same_quotes_are_answered_from_memory_for_a_second(
    client: AsyncClient,
    headers: dict[str, str],
    tiingo: MarketData,
    vendor: respx.MockRouter,
    cache: RedisCache,
) -> None:
    route = vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    path = "/market/quotes?tickers=AAPL"
    first = await client.get(path, headers=headers)
    await cache.client.delete("quote:AAPL")
    again = await client.get(path, headers=headers)
    assert again.status_code == 200 and again.content == first.content
    assert route.call_count == 1
    other = await client.get("/market/quotes?tickers=aapl", headers=headers)  # its own query
    assert other.json()["items"][0]["price"] == "148.6" and route.call_count == 2
    await cache.client.delete("quote:AAPL")
    await asyncio.sleep(RECENT_ANSWER_SECONDS)
    later = await client.get(path, headers=headers)
    assert later.status_code == 200 and route.call_count == 3
    assert later.json()["items"][0]["fetched_at"] != first.json()["items"][0]["fetched_at"]


async def test_a_partial_answer_is_not_kept(
    client: AsyncClient, headers: dict[str, str], tiingo: MarketData, vendor: respx.MockRouter
) -> None:
    vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    down = vendor.get(f"{TIINGO_URL}/iex/DOWN").mock(return_value=httpx.Response(503))
    asked = []
    for _ in range(2):
        partial = await client.get("/market/quotes?tickers=AAPL,DOWN", headers=headers)
        assert partial.json()["errors"][0]["ticker"] == "DOWN"
        asked.append(down.call_count)
    assert asked[1] > asked[0] > 0  # the second answer asked the vendor again


async def test_a_refresh_drops_the_quotes_kept_in_memory(
    client: AsyncClient, app: FastAPI, session: AsyncSession, headers: dict[str, str]
) -> None:
    path = "/market/quotes?tickers=AAPL"
    before = (await client.get(path, headers=headers)).json()["items"][0]
    pm = await bearer(app, await make_user(session, Role.PORTFOLIO_MANAGER))
    assert (await client.post("/market/tickers/AAPL/refresh", headers=pm)).status_code == 200
    after = (await client.get(path, headers=headers)).json()["items"][0]
    assert after["fetched_at"] > before["fetched_at"]


async def test_vendor_failure_with_nothing_cached_is_503_with_retry_after(
    client: AsyncClient, headers: dict[str, str], tiingo: MarketData, vendor: respx.MockRouter
) -> None:
    vendor.get(META).mock(return_value=httpx.Response(500))
    vendor.get(IEX).mock(return_value=httpx.Response(503))
    for path in ("/market/tickers/GOOGL", "/market/quotes?tickers=AAPL"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 503, path
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"]["code"] == "market_data_unavailable"


async def test_one_failing_ticker_does_not_fail_the_others(
    client: AsyncClient, headers: dict[str, str], tiingo: MarketData, vendor: respx.MockRouter
) -> None:
    vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    vendor.get(f"{TIINGO_URL}/iex/DOWN").mock(return_value=httpx.Response(503))
    response = await client.get("/market/quotes?tickers=AAPL,DOWN", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert [q["ticker"] for q in body["items"]] == ["AAPL"]
    assert body["errors"][0]["ticker"] == "DOWN"
    assert body["errors"][0]["error"]["code"] == "market_data_unavailable"


async def test_market_routes_answer_while_redis_is_down(
    client: AsyncClient,
    headers: dict[str, str],
    build: MarketFactory,
    use_market: UseMarket,
) -> None:
    dead = RedisCache(NOTHING_LISTENS)
    use_market(build("simulated", cache_backend=dead))
    try:
        for path in (
            "/market/tickers/NVDA",
            "/market/tickers/NVDA/prices?start=2024-03-01&end=2024-03-08",
            "/market/quotes?tickers=NVDA,KO",
        ):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)
            assert "X-Data-Stale" not in response.headers
    finally:
        await dead.close()

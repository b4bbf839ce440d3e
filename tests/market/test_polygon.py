"""The Polygon client against Polygon's real response shapes, served by respx."""

import json
import logging
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
import respx

from app.market.provider import MarketDataUnauthorized, UnknownTicker, VendorDataInvalid
from tests.market.conftest import POLYGON_URL, MarketFactory, vendor_body, vendor_json

AGGS = f"{POLYGON_URL}/v2/aggs/ticker/AAPL/range/1/day/2020-01-02/2020-01-10"
CURSOR_PATH = "/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10"


def json_response(body: bytes, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=body, headers={"Content-Type": "application/json", **headers}
    )


def second_page() -> bytes:
    page = vendor_json("polygon/polygon_aggs.json")
    del page["next_url"]
    page["results"] = [
        {"c": 74.95, "h": 75.2244, "l": 74.37, "n": 1, "o": 74.29, "t": 1578373200000,
         "v": 108872000, "vw": 74.7}
    ]  # fmt: skip
    return json.dumps(page).encode()


async def test_ticker_details_map_every_field(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(f"{POLYGON_URL}/v3/reference/tickers/AAPL").mock(
        return_value=json_response(vendor_body("polygon/polygon_ticker_details.json"))
    )
    info = await build("polygon").provider.ticker_info("AAPL")
    assert info.ticker == "AAPL"
    assert info.name == "Apple Inc."
    assert info.exchange == "XNAS"
    assert info.asset_type == "stock"
    assert info.currency == "USD"
    assert info.description is not None and info.description.startswith("Apple designs")
    assert (info.start_date, info.end_date) == (date(1980, 12, 12), None)
    assert info.sector == "Electronic Computers"  # its SIC description
    assert route.calls.last.request.headers["Authorization"] == "Bearer polygon-test-key"


async def test_aggregates_follow_next_url_on_our_base_url_with_the_key(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    first = vendor.get(AGGS).mock(
        return_value=json_response(vendor_body("polygon/polygon_aggs.json"))
    )
    rest = vendor.get(f"{POLYGON_URL}{CURSOR_PATH}").mock(return_value=json_response(second_page()))
    bars = await build("polygon").provider.daily_bars("AAPL", date(2020, 1, 2), date(2020, 1, 10))
    assert [b.date for b in bars] == [date(2020, 1, 2), date(2020, 1, 3), date(2020, 1, 7)]
    first_bar = bars[0]
    assert (first_bar.open, first_bar.high, first_bar.low, first_bar.close) == (
        Decimal("74.06"),
        Decimal("75.15"),
        Decimal("73.7975"),
        Decimal("75.0875"),
    )
    assert first_bar.adj_close == first_bar.close
    assert first_bar.volume == 135647456
    assert (first_bar.dividend, first_bar.split_factor) == (Decimal(0), Decimal(1))
    assert first.calls.last.request.url.params["adjusted"] == "false"
    cursor_request = rest.calls.last.request
    assert cursor_request.url.params["cursor"] == "bGltaXQ9MiZzb3J0PWFzYw"
    assert cursor_request.headers["Authorization"] == "Bearer polygon-test-key"


async def test_millisecond_timestamps_are_new_york_market_dates(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    # Midnight New York is 04:00 or 05:00 UTC; the bar belongs to that New York date.
    page = {"status": "OK", "results": [
        {"o": 1, "h": 1, "l": 1, "c": 1, "v": 1, "t": 1710129600000},  # 2024-03-11 00:00 EDT
        {"o": 1, "h": 1, "l": 1, "c": 1, "v": 1, "t": 1709874000000},  # 2024-03-08 00:00 EST
    ]}  # fmt: skip
    vendor.get(url__startswith=f"{POLYGON_URL}/v2/aggs/ticker/SPY/range").mock(
        return_value=httpx.Response(200, json=page)
    )
    bars = await build("polygon").provider.daily_bars("SPY", date(2024, 3, 8), date(2024, 3, 11))
    assert [b.date for b in bars] == [date(2024, 3, 11), date(2024, 3, 8)]


async def test_no_results_key_means_no_bars(build: MarketFactory, vendor: respx.MockRouter) -> None:
    empty = {
        "ticker": "AAPL",
        "queryCount": 0,
        "resultsCount": 0,
        "adjusted": False,
        "status": "OK",
    }
    vendor.get(url__startswith=f"{POLYGON_URL}/v2/aggs/ticker/AAPL/range").mock(
        return_value=httpx.Response(200, json=empty)
    )
    assert (
        await build("polygon").provider.daily_bars("AAPL", date(2020, 1, 4), date(2020, 1, 5)) == []
    )


async def test_a_cursor_that_never_ends_is_refused(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    vendor.get(url__startswith=f"{POLYGON_URL}/v2/aggs/").mock(
        return_value=json_response(vendor_body("polygon/polygon_aggs.json"))
    )
    with pytest.raises(VendorDataInvalid):
        await build("polygon").provider.daily_bars("AAPL", date(2020, 1, 2), date(2020, 1, 10))


async def test_quote_is_the_previous_close(build: MarketFactory, vendor: respx.MockRouter) -> None:
    vendor.get(f"{POLYGON_URL}/v2/aggs/ticker/AAPL/prev").mock(
        return_value=json_response(vendor_body("polygon/polygon_prev.json"))
    )
    quote = await build("polygon").provider.latest_quote("AAPL")
    assert quote.price == Decimal("115.97")
    assert quote.as_of == datetime(2020, 11, 10, 21, 0, tzinfo=UTC)  # 16:00 in New York


async def test_unknown_ticker(build: MarketFactory, vendor: respx.MockRouter) -> None:
    vendor.get(f"{POLYGON_URL}/v3/reference/tickers/NOPE").mock(
        return_value=httpx.Response(
            404, json={"status": "NOT_FOUND", "message": "Ticker not found."}
        )
    )
    with pytest.raises(UnknownTicker):
        await build("polygon").provider.ticker_info("NOPE")


async def test_unknown_key_is_unauthorized_and_logged(
    build: MarketFactory, vendor: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    vendor.get(f"{POLYGON_URL}/v2/aggs/ticker/AAPL/prev").mock(
        return_value=json_response(vendor_body("polygon/polygon_error_401_unknown_key.json"), 401)
    )
    with (
        caplog.at_level(logging.ERROR, logger="folio.market"),
        pytest.raises(MarketDataUnauthorized) as caught,
    ):
        await build("polygon").provider.latest_quote("AAPL")
    assert caught.value.code == "market_data_unauthorized"
    assert any("Unknown API Key" in r.getMessage() for r in caplog.records)


async def test_rate_limit_answer_is_retried(build: MarketFactory, vendor: respx.MockRouter) -> None:
    limited = json_response(
        vendor_body("polygon/polygon_error_429_ratelimit.json"), 429, **{"Retry-After": "0.05"}
    )
    route = vendor.get(f"{POLYGON_URL}/v2/aggs/ticker/AAPL/prev").mock(
        side_effect=[limited, json_response(vendor_body("polygon/polygon_prev.json"))]
    )
    assert (await build("polygon").provider.latest_quote("AAPL")).price == Decimal("115.97")
    assert route.call_count == 2


async def test_an_error_status_in_a_200_is_refused(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    vendor.get(f"{POLYGON_URL}/v2/aggs/ticker/AAPL/prev").mock(
        return_value=httpx.Response(200, json={"status": "ERROR", "error": "something"})
    )
    with pytest.raises(VendorDataInvalid):
        await build("polygon").provider.latest_quote("AAPL")

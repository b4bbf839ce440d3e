"""The Tiingo client against Tiingo's real response shapes, served by respx."""

import logging
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest
import respx

from app.market.provider import (
    Bar,
    MarketDataUnauthorized,
    MarketDataUnavailable,
    UnknownTicker,
    VendorDataInvalid,
)
from tests.market.conftest import TIINGO_URL, MarketFactory, vendor_body

PRICES = f"{TIINGO_URL}/tiingo/daily/GOOGL/prices"


def json_response(body: bytes, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(
        status, content=body, headers={"Content-Type": "application/json", **headers}
    )


async def test_metadata_maps_every_field(build: MarketFactory, vendor: respx.MockRouter) -> None:
    route = vendor.get(f"{TIINGO_URL}/tiingo/daily/GOOGL").mock(
        return_value=json_response(vendor_body("tiingo/tiingo_meta.json"))
    )
    info = await build().provider.ticker_info("GOOGL")
    assert info.ticker == "GOOGL"
    assert info.name == 'Alphabet Inc.("Google") - Class A'
    assert info.exchange == "NASDAQ"
    assert info.currency == "USD"
    assert info.asset_type is None
    assert info.description is not None and info.description.startswith("Google Inc. (Google)")
    assert (info.start_date, info.end_date) == (date(2004, 8, 19), date(2017, 10, 6))
    assert route.calls.last.request.headers["Authorization"] == "Token tiingo-test-key"


async def test_daily_bars_map_raw_and_adjusted_values_exactly(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(PRICES).mock(
        return_value=json_response(vendor_body("tiingo/tiingo_daily_prices.json"))
    )
    bars = await build().provider.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))
    assert bars == [
        Bar(
            date=date(2015, 1, 2),
            open=Decimal("532.6"),
            high=Decimal("535.8"),
            low=Decimal("527.88"),
            close=Decimal("529.55"),
            adj_close=Decimal("529.55"),
            volume=1327870,
            dividend=Decimal("0.0"),
            split_factor=Decimal("1.0"),
        ),
        Bar(
            date=date(2015, 1, 5),
            open=Decimal("527.15"),
            high=Decimal("527.9899"),
            low=Decimal("517.75"),
            close=Decimal("519.46"),
            adj_close=Decimal("519.46"),
            volume=2059119,
            dividend=Decimal("0.0"),
            split_factor=Decimal("1.0"),
        ),
    ]
    assert all(isinstance(v, Decimal) for bar in bars for v in (bar.open, bar.high, bar.close))
    assert dict(route.calls.last.request.url.params) == {
        "startDate": "2015-01-01",
        "endDate": "2015-01-05",
        "resampleFreq": "daily",
        "format": "json",
    }


async def test_adjusted_close_dividend_and_split_come_from_the_adjusted_fields(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    row = {
        "date": "2020-08-31T00:00:00.000Z",
        "close": 129.04, "high": 131.0, "low": 126.0, "open": 127.58, "volume": 225702700,
        "adjClose": 126.8143, "adjHigh": 128.74, "adjLow": 123.83, "adjOpen": 125.38,
        "adjVolume": 225702700, "divCash": 0.205, "splitFactor": 4.0,
    }  # fmt: skip
    vendor.get(f"{TIINGO_URL}/tiingo/daily/AAPL/prices").mock(
        return_value=httpx.Response(200, json=[row])
    )
    [bar] = await build().provider.daily_bars("AAPL", date(2020, 8, 31), date(2020, 8, 31))
    assert bar.close == Decimal("129.04")
    assert bar.adj_close == Decimal("126.8143")
    assert bar.dividend == Decimal("0.205")
    assert bar.split_factor == Decimal("4.0")


async def test_share_class_symbols_are_sent_with_a_dash(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(f"{TIINGO_URL}/tiingo/daily/BRK-B/prices").mock(
        return_value=json_response(vendor_body("tiingo/tiingo_daily_prices.json"))
    )
    meta = vendor.get(f"{TIINGO_URL}/tiingo/daily/BRK-B").mock(
        return_value=json_response(vendor_body("tiingo/tiingo_meta.json"))
    )
    market = build()
    result = await market.daily_bars("brk.b", date(2015, 1, 1), date(2015, 1, 5))
    assert result.ticker == "BRK.B"
    assert (await market.ticker_info("BRK.B")).info.ticker == "BRK.B"
    assert route.call_count == 1 and meta.call_count == 1


async def test_quote_is_tiingo_reference_last_price(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    body = vendor_body("tiingo/tiingo_iex.json")
    vendor.get(f"{TIINGO_URL}/iex/AAPL").mock(return_value=json_response(body))
    quote = await build().provider.latest_quote("AAPL")
    assert quote.price == Decimal("148.6")
    assert quote.previous_close == Decimal("147.54")
    assert quote.as_of == datetime(2021, 8, 27, 20, 0, tzinfo=UTC)


async def test_unknown_ticker_is_a_domain_error(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    vendor.get(f"{TIINGO_URL}/tiingo/daily/TZUP").mock(
        return_value=json_response(vendor_body("tiingo/tiingo_error_notfound.json"), 404)
    )
    with pytest.raises(UnknownTicker) as caught:
        await build().provider.ticker_info("TZUP")
    assert caught.value.status_code == 404
    assert caught.value.details == {"ticker": "TZUP"}


async def test_an_empty_iex_answer_is_an_unknown_ticker(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    vendor.get(f"{TIINGO_URL}/iex/TZUP").mock(return_value=httpx.Response(200, json=[]))
    with pytest.raises(UnknownTicker):
        await build().provider.latest_quote("TZUP")


async def test_a_refused_key_is_logged_loudly(
    build: MarketFactory, vendor: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    route = vendor.get(f"{TIINGO_URL}/tiingo/daily/GOOGL").mock(
        return_value=httpx.Response(401, json={"detail": "Invalid token."})
    )
    with (
        caplog.at_level(logging.ERROR, logger="folio.market"),
        pytest.raises(MarketDataUnauthorized),
    ):
        await build().provider.ticker_info("GOOGL")
    assert route.call_count == 1  # not retried
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "TIINGO REFUSED FOLIO'S KEY" in record.getMessage()
    assert "tiingo-test-key" not in record.getMessage()


async def test_429_with_retry_after_is_waited_out_and_the_retry_succeeds(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    limited = json_response(
        vendor_body("tiingo/tiingo_error_ratelimit_hourly.json"), 429, **{"Retry-After": "0.2"}
    )
    route = vendor.get(PRICES).mock(
        side_effect=[limited, json_response(vendor_body("tiingo/tiingo_daily_prices.json"))]
    )
    started = time.monotonic()
    bars = await build().provider.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))
    assert len(bars) == 2
    assert route.call_count == 2
    assert time.monotonic() - started >= 0.2


async def test_a_retry_after_beyond_the_bound_gives_up_at_once(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    limited = json_response(
        vendor_body("tiingo/tiingo_error_ratelimit_hourly.json"), 429, **{"Retry-After": "3600"}
    )
    route = vendor.get(PRICES).mock(return_value=limited)
    started = time.monotonic()
    with pytest.raises(MarketDataUnavailable) as caught:
        await build().provider.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))
    assert time.monotonic() - started < 0.5
    assert route.call_count == 1
    assert caught.value.code == "market_data_unavailable"
    assert caught.value.headers == {"Retry-After": "3600"}


async def test_server_errors_are_retried_a_bounded_number_of_times(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(PRICES).mock(return_value=httpx.Response(503, text="upstream down"))
    with pytest.raises(MarketDataUnavailable) as caught:
        await build(vendor_max_attempts=3).provider.daily_bars(
            "GOOGL", date(2015, 1, 1), date(2015, 1, 5)
        )
    assert route.call_count == 3
    assert caught.value.status_code == 503 and "Retry-After" in (caught.value.headers or {})


async def test_a_500_then_a_good_answer_succeeds(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    good = json_response(vendor_body("tiingo/tiingo_daily_prices.json"))
    route = vendor.get(PRICES).mock(side_effect=[httpx.Response(500), httpx.Response(502), good])
    bars = await build().provider.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))
    assert len(bars) == 2 and route.call_count == 3


async def test_timeouts_are_retried(build: MarketFactory, vendor: respx.MockRouter) -> None:
    good = json_response(vendor_body("tiingo/tiingo_daily_prices.json"))
    route = vendor.get(PRICES).mock(side_effect=[httpx.ReadTimeout("slow"), good])
    assert len(await build().provider.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))) == 2
    assert route.call_count == 2


async def test_an_unreachable_vendor_is_unavailable(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(PRICES).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(MarketDataUnavailable):
        await build().provider.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))
    assert route.call_count == 3


@pytest.mark.parametrize(
    "body",
    [
        b'[{"date": "2015-01-02T00:00:00.000Z", "close": NaN, "high": 1, "low": 1, "open": 1,'
        b' "volume": 1, "adjClose": 1}]',
        b'[{"date": "2015-01-02T00:00:00.000Z", "close": 0, "high": 1, "low": 1, "open": 1,'
        b' "volume": 1, "adjClose": 1}]',
        b'[{"date": "2015-01-02T00:00:00.000Z", "close": -5.5, "high": 1, "low": 1, "open": 1,'
        b' "volume": 1, "adjClose": 1}]',
        b'[{"date": "2015-01-02T00:00:00.000Z", "high": 1, "low": 1, "open": 1, "volume": 1,'
        b' "adjClose": 1}]',
        b'{"detail": "Error: startDate must be before endDate"}',
        b"<html>maintenance</html>",
        b"[" + b'{"date": "2015-01-02T00:00:00.000Z"},' * 200_000 + b"{}]",
    ],
    ids=["nan", "zero", "negative", "missing-close", "not-a-list", "not-json", "too-large"],
)
async def test_invalid_payloads_are_refused(
    build: MarketFactory, vendor: respx.MockRouter, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    vendor.get(PRICES).mock(return_value=json_response(body))
    with caplog.at_level(logging.ERROR, logger="folio.market"), pytest.raises(VendorDataInvalid):
        await build(vendor_max_response_bytes=1_000_000).provider.daily_bars(
            "GOOGL", date(2015, 1, 1), date(2015, 1, 5)
        )
    assert any("refused" in r.getMessage() for r in caplog.records)

"""MarketData: cache, stored bars, single flight, stale-if-error, circuit, rate limit, no Redis."""

import asyncio
import json
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest
import respx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.cache import RedisCache
from app.core.errors import InvalidInput
from app.market import history
from app.market.models import Instrument, PriceBar, PriceCoverage
from app.market.provider import (
    CircuitOpen,
    MarketDataUnavailable,
    UnknownTicker,
    VendorDataInvalid,
    VendorRateLimited,
)
from tests.market.conftest import NOTHING_LISTENS, TIINGO_URL, MarketFactory, vendor_body

META = f"{TIINGO_URL}/tiingo/daily/GOOGL"
PRICES = f"{TIINGO_URL}/tiingo/daily/GOOGL/prices"
IEX = f"{TIINGO_URL}/iex/AAPL"


def ok(name: str) -> httpx.Response:
    return httpx.Response(
        200, content=vendor_body(name), headers={"Content-Type": "application/json"}
    )


def tiingo_rows(*days: str) -> list[dict[str, object]]:
    return [
        {"date": f"{d}T00:00:00.000Z", "open": 10.5, "high": 11.25, "low": 10.0, "close": 11.0,
         "volume": 1000, "adjClose": 10.75, "adjHigh": 11, "adjLow": 9.8, "adjOpen": 10.2,
         "adjVolume": 1000, "divCash": 0.0, "splitFactor": 1.0}
        for d in days
    ]  # fmt: skip


def prices_by_params(request: httpx.Request) -> httpx.Response:
    """A Tiingo that answers any range with a bar on each weekday of it."""
    start = date.fromisoformat(request.url.params["startDate"])
    end = date.fromisoformat(request.url.params["endDate"])
    days = [date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1)]
    return httpx.Response(200, json=tiingo_rows(*(d.isoformat() for d in days if d.weekday() < 5)))


@pytest.fixture
def googl(vendor: respx.MockRouter) -> respx.Route:
    vendor.get(META).mock(return_value=ok("tiingo/tiingo_meta.json"))
    return vendor.get(PRICES).mock(side_effect=prices_by_params)


def ranges(route: respx.Route) -> list[tuple[str, str]]:
    return [
        (c.request.url.params["startDate"], c.request.url.params["endDate"]) for c in route.calls
    ]


async def test_the_same_range_twice_makes_one_vendor_call(
    build: MarketFactory, vendor: respx.MockRouter, googl: respx.Route
) -> None:
    market = build()
    first = await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 9))
    calls = vendor.calls.call_count
    second = await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 9))
    assert googl.call_count == 1 and vendor.calls.call_count == calls
    assert first.items == second.items
    assert [b.date.day for b in second.items] == [1, 2, 5, 6, 7, 8, 9]
    assert second.provider == "tiingo" and not second.stale
    assert second.items[0].close == Decimal("11.0") and second.items[0].adj_close == Decimal(
        "10.75"
    )


async def test_a_wider_range_fetches_only_the_missing_dates(
    build: MarketFactory, googl: respx.Route
) -> None:
    market = build()
    await market.daily_bars("GOOGL", date(2015, 1, 5), date(2015, 1, 9))
    result = await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 16))
    assert ranges(googl) == [
        ("2015-01-05", "2015-01-09"),
        ("2015-01-01", "2015-01-04"),
        ("2015-01-10", "2015-01-16"),
    ]
    assert len(result.items) == 12
    await market.daily_bars("GOOGL", date(2015, 1, 3), date(2015, 1, 12))
    assert googl.call_count == 3


async def test_weekends_and_holidays_known_to_be_empty_are_not_asked_again(
    build: MarketFactory, googl: respx.Route
) -> None:
    market = build()
    assert (await market.daily_bars("GOOGL", date(2015, 1, 3), date(2015, 1, 4))).items == []
    assert (await market.daily_bars("GOOGL", date(2015, 1, 3), date(2015, 1, 4))).items == []
    assert googl.call_count == 1


async def test_stored_bars_keep_exact_decimals(
    build: MarketFactory,
    vendor: respx.MockRouter,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    vendor.get(META).mock(return_value=ok("tiingo/tiingo_meta.json"))
    vendor.get(PRICES).mock(return_value=ok("tiingo/tiingo_daily_prices.json"))
    await build().daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))
    async with sessionmaker() as session:
        bar = await session.scalar(select(PriceBar).where(PriceBar.date == date(2015, 1, 5)))
        covered = (
            await session.scalars(select(PriceCoverage).where(PriceCoverage.provider == "tiingo"))
        ).all()
    assert bar is not None and bar.high == Decimal("527.9899") and bar.provider == "tiingo"
    assert bar.volume == 2059119
    assert [(c.start_date, c.end_date) for c in covered] == [(date(2015, 1, 1), date(2015, 1, 5))]


async def test_future_dates_are_not_asked_and_not_marked_fetched(
    build: MarketFactory, googl: respx.Route
) -> None:
    market = build()
    result = await market.daily_bars("GOOGL", date(2099, 1, 1), date(2099, 1, 31))
    assert result.items == [] and googl.call_count == 0


async def test_a_start_after_the_end_is_invalid(build: MarketFactory) -> None:
    with pytest.raises(InvalidInput):
        await build().daily_bars("GOOGL", date(2015, 1, 9), date(2015, 1, 1))


async def test_metadata_is_cached_as_readable_json_with_its_ttl(
    build: MarketFactory, googl: respx.Route, vendor: respx.MockRouter, cache: RedisCache
) -> None:
    market = build()
    result = await market.ticker_info("googl")
    assert result.info.exchange == "NASDAQ" and not result.stale
    await market.ticker_info("GOOGL")
    assert vendor.calls.call_count == 1
    raw = json.loads(await cache.client.get("ticker_metadata:GOOGL"))
    assert raw["provider"] == "tiingo" and raw["data"]["start_date"] == "2004-08-19"
    assert 86_000 < await cache.client.ttl("ticker_metadata:GOOGL") <= 86_400


async def test_quote_is_cached_for_seconds_with_decimals_as_strings(
    build: MarketFactory, vendor: respx.MockRouter, cache: RedisCache
) -> None:
    route = vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    market = build(cache_ttl_quote_seconds=15)
    first = await market.quote("AAPL")
    second = await market.quote("AAPL")
    assert route.call_count == 1
    assert first.quote.price == second.quote.price == Decimal("148.6")
    raw = json.loads(await cache.client.get("quote:AAPL"))
    assert raw["data"]["price"] == "148.6" and raw["data"]["previous_close"] == "147.54"
    assert 0 < await cache.client.ttl("quote:AAPL") <= 15


async def test_last_close_is_cached_until_the_next_close_at_most(
    build: MarketFactory, vendor: respx.MockRouter, cache: RedisCache
) -> None:
    vendor.get(f"{TIINGO_URL}/tiingo/daily/AAPL").mock(return_value=ok("tiingo/tiingo_meta.json"))
    prices = vendor.get(f"{TIINGO_URL}/tiingo/daily/AAPL/prices").mock(side_effect=prices_by_params)
    market = build(cache_ttl_last_close_max_seconds=3600)
    first = await market.last_close("AAPL")
    second = await market.last_close("AAPL")
    assert first.bar == second.bar and first.bar.close == Decimal("11.0")
    assert prices.call_count == 1
    raw = json.loads(await cache.client.get("last_close:AAPL"))
    assert raw["data"]["close"] == "11.0" and raw["data"]["date"] == first.bar.date.isoformat()
    assert 0 < await cache.client.ttl("last_close:AAPL") <= 3600


async def test_invalid_vendor_data_is_neither_cached_nor_stored(
    build: MarketFactory,
    vendor: respx.MockRouter,
    cache: RedisCache,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    zero = {"ticker": "AAPL", "tngoLast": 0, "timestamp": "2021-08-27T20:00:00+00:00"}
    vendor.get(IEX).mock(return_value=httpx.Response(200, json=[zero]))
    vendor.get(META).mock(return_value=ok("tiingo/tiingo_meta.json"))
    bad = tiingo_rows("2015-01-02")
    bad[0]["close"] = -1
    vendor.get(PRICES).mock(return_value=httpx.Response(200, json=bad))
    market = build()
    with pytest.raises(VendorDataInvalid):
        await market.quote("AAPL")
    with pytest.raises(VendorDataInvalid):
        await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 5))
    assert await cache.client.get("quote:AAPL") is None
    async with sessionmaker() as session:
        # Other tests' routes leave simulated prices behind; none of Tiingo's may be stored.
        assert (
            await session.scalars(select(PriceBar).where(PriceBar.provider == "tiingo"))
        ).all() == []
        assert (
            await session.scalars(select(PriceCoverage).where(PriceCoverage.provider == "tiingo"))
        ).all() == []


async def test_vendor_failure_serves_stored_bars_marked_stale_with_their_age(
    build: MarketFactory, vendor: respx.MockRouter, googl: respx.Route
) -> None:
    market = build()
    await market.daily_bars("GOOGL", date(2015, 1, 5), date(2015, 1, 9))
    googl.mock(side_effect=None, return_value=httpx.Response(500))
    result = await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 16))
    assert result.stale and len(result.items) == 5
    assert 0 <= result.age_seconds < 60
    with pytest.raises(MarketDataUnavailable) as caught:
        await market.daily_bars("GOOGL", date(2016, 1, 1), date(2016, 1, 8))
    assert caught.value.status_code == 503 and caught.value.headers


async def test_vendor_failure_serves_the_last_close_as_a_stale_quote(
    build: MarketFactory, vendor: respx.MockRouter, cache: RedisCache
) -> None:
    vendor.get(f"{TIINGO_URL}/tiingo/daily/AAPL").mock(return_value=ok("tiingo/tiingo_meta.json"))
    vendor.get(f"{TIINGO_URL}/tiingo/daily/AAPL/prices").mock(side_effect=prices_by_params)
    vendor.get(IEX).mock(return_value=httpx.Response(503))
    market = build()
    with pytest.raises(MarketDataUnavailable):
        await market.quote("AAPL")  # nothing known yet
    close = await market.last_close("AAPL")
    await cache.client.delete("last_close:AAPL")  # from the database too, not only the cache
    quote = await market.quote("AAPL")
    assert quote.stale and quote.quote.price == close.bar.close == Decimal("11.0")
    assert quote.age_seconds >= 0 and quote.provider == "tiingo"


async def test_an_expired_quote_is_served_stale_when_the_vendor_fails(
    build: MarketFactory, vendor: respx.MockRouter, cache: RedisCache
) -> None:
    route = vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    market = build(cache_ttl_stale_seconds=3600)
    fresh = await market.quote("AAPL")
    assert 3500 < await cache.client.ttl("stale:quote:AAPL") <= 3600
    await cache.client.delete("quote:AAPL")  # its few seconds are over
    route.mock(return_value=httpx.Response(500))
    stale = await market.quote("AAPL")
    assert stale.stale and stale.quote == fresh.quote and stale.fetched_at == fresh.fetched_at


async def test_expired_metadata_is_served_stale_when_the_vendor_fails(
    build: MarketFactory, vendor: respx.MockRouter, cache: RedisCache
) -> None:
    route = vendor.get(META).mock(return_value=ok("tiingo/tiingo_meta.json"))
    market = build()
    await market.ticker_info("GOOGL")
    await cache.client.delete("ticker_metadata:GOOGL")
    route.mock(return_value=httpx.Response(503))
    result = await market.ticker_info("GOOGL")
    assert result.stale and result.info.exchange == "NASDAQ"


async def test_vendor_failure_serves_the_stored_instrument_as_stale_metadata(
    build: MarketFactory, vendor: respx.MockRouter, googl: respx.Route, cache: RedisCache
) -> None:
    market = build()
    await market.daily_bars("GOOGL", date(2015, 1, 5), date(2015, 1, 5))
    await cache.client.flushdb()
    vendor.get(META).mock(return_value=httpx.Response(502))
    result = await market.ticker_info("GOOGL")
    assert result.stale and result.info.name.startswith("Alphabet")


async def test_the_circuit_opens_after_failures_in_a_row_then_closes_after_a_trial(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(IEX).mock(return_value=httpx.Response(500))
    market = build(circuit_failure_threshold=2, circuit_cooldown_seconds=0.2, vendor_max_attempts=1)
    for _ in range(2):
        with pytest.raises(MarketDataUnavailable):
            await market.quote("AAPL")
    assert market.health().status == "down" and "open" in (market.health().detail or "")
    with pytest.raises(CircuitOpen) as caught:
        await market.quote("AAPL")
    assert route.call_count == 2  # no call while open
    assert caught.value.code == "market_data_unavailable" and caught.value.headers
    await asyncio.sleep(0.25)
    route.mock(return_value=ok("tiingo/tiingo_iex.json"))
    assert (await market.quote("AAPL")).quote.price == Decimal("148.6")
    assert market.health().status == "up" and route.call_count == 3


async def test_an_unknown_ticker_does_not_count_as_a_vendor_failure(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    vendor.get(f"{TIINGO_URL}/tiingo/daily/TZUP").mock(
        return_value=httpx.Response(404, content=vendor_body("tiingo/tiingo_error_notfound.json"))
    )
    market = build(circuit_failure_threshold=1)
    for _ in range(2):
        with pytest.raises(UnknownTicker):
            await market.ticker_info("TZUP")
    assert market.breaker.state == "closed"


async def test_the_rate_limit_is_shared_and_refuses_past_the_wait_bound(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(url__regex=rf"{TIINGO_URL}/iex/\w+").mock(
        return_value=ok("tiingo/tiingo_iex.json")
    )
    one, other = (build(tiingo_calls_per_minute=2, vendor_max_wait_seconds=0.1) for _ in range(2))
    await one.quote("AAPL")
    await other.quote("MSFT")  # another process, the same budget
    with pytest.raises(VendorRateLimited) as caught:
        await one.quote("IBM")
    assert route.call_count == 2
    assert caught.value.status_code == 503 and caught.value.headers


async def test_a_caller_waits_for_the_next_rate_window_within_the_bound(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    route = vendor.get(url__regex=rf"{TIINGO_URL}/iex/\w+").mock(
        return_value=ok("tiingo/tiingo_iex.json")
    )
    market = build(tiingo_calls_per_minute=1, vendor_rate_window_seconds=0.2)
    results = await asyncio.gather(market.quote("AAPL"), market.quote("MSFT"), market.quote("IBM"))
    assert all(r.quote.price for r in results) and route.call_count == 3


async def test_a_spent_rate_limit_serves_stored_bars_as_stale(
    build: MarketFactory, googl: respx.Route
) -> None:
    market = build(tiingo_calls_per_minute=2, vendor_max_wait_seconds=0.05)
    await market.daily_bars("GOOGL", date(2015, 1, 5), date(2015, 1, 9))  # metadata + bars
    result = await market.daily_bars("GOOGL", date(2015, 1, 5), date(2015, 1, 16))
    assert result.stale and len(result.items) == 5
    assert market.breaker.state == "closed"  # our own limit is not the vendor failing


async def test_concurrent_cold_requests_make_one_vendor_call(
    build: MarketFactory, vendor: respx.MockRouter, googl: respx.Route
) -> None:
    iex = vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    market = build()
    quotes = await asyncio.gather(*(market.quote("AAPL") for _ in range(100)))
    bars = await asyncio.gather(
        *(market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 9)) for _ in range(100))
    )
    assert iex.call_count == 1 and {q.quote.price for q in quotes} == {Decimal("148.6")}
    assert googl.call_count == 1 and vendor.routes[0].call_count == 1  # bars, metadata
    assert {len(b.items) for b in bars} == {7}


async def test_two_instances_sharing_redis_make_one_vendor_call(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    async def slow_quote(_: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.1)
        return ok("tiingo/tiingo_iex.json")

    route = vendor.get(IEX).mock(side_effect=slow_quote)
    one, other = build(), build()
    answers = await asyncio.gather(*(m.quote("AAPL") for m in (one, other) for _ in range(50)))
    assert route.call_count == 1 and len(answers) == 100


async def test_without_redis_market_data_still_answers(
    build: MarketFactory, vendor: respx.MockRouter, googl: respx.Route
) -> None:
    iex = vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    down = RedisCache(NOTHING_LISTENS)
    try:
        market = build(cache_backend=down)
        assert (await market.ticker_info("GOOGL")).info.name.startswith("Alphabet")
        first = await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 9))
        again = await market.daily_bars("GOOGL", date(2015, 1, 1), date(2015, 1, 9))
        assert first.items == again.items and googl.call_count == 1  # from the database
        quotes = await asyncio.gather(*(market.quote("AAPL") for _ in range(20)))
        assert iex.call_count == 1 and quotes[0].quote.price == Decimal("148.6")
        assert market.health().status == "up"
    finally:
        await down.close()


async def test_ensure_instrument_asks_the_provider_once_and_keeps_the_row(
    build: MarketFactory, vendor: respx.MockRouter, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    meta = vendor.get(META).mock(return_value=ok("tiingo/tiingo_meta.json"))
    market = build()
    async with sessionmaker() as session:
        instrument = await market.ensure_instrument(session, " googl ")
        assert instrument.id and instrument.ticker == "GOOGL" and instrument.exchange == "NASDAQ"
        assert instrument.first_price_date == date(2004, 8, 19) and instrument.provider == "tiingo"
        await session.commit()
    async with sessionmaker() as session:
        assert (await market.ensure_instrument(session, "GOOGL")).id == instrument.id
    assert meta.call_count == 1


async def test_ensure_instrument_refuses_an_unknown_ticker(
    build: MarketFactory, vendor: respx.MockRouter, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    vendor.get(f"{TIINGO_URL}/tiingo/daily/TZUP").mock(
        return_value=httpx.Response(404, content=vendor_body("tiingo/tiingo_error_notfound.json"))
    )
    async with sessionmaker() as session:
        with pytest.raises(UnknownTicker):
            await build().ensure_instrument(session, "TZUP")
        assert await session.scalar(select(Instrument).where(Instrument.ticker == "TZUP")) is None


async def test_ensure_instrument_only_flushes_in_the_callers_transaction(
    build: MarketFactory, googl: respx.Route, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    market = build()
    async with sessionmaker() as session:
        await market.ensure_instrument(session, "GOOGL")
        # The caller's transaction is still open: bars are served, without waiting on it.
        result = await market.daily_bars("GOOGL", date(2015, 1, 5), date(2015, 1, 9))
        assert len(result.items) == 5
        await session.rollback()
    async with sessionmaker() as session:
        assert await session.scalar(select(Instrument).where(Instrument.ticker == "GOOGL")) is None


async def test_malformed_tickers_are_unknown_without_asking_the_vendor(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    market = build()
    for ticker in ("../etc/passwd", "", "A B", "X" * 17):
        with pytest.raises(UnknownTicker):
            await market.ticker_info(ticker)
    assert vendor.calls.call_count == 0


async def test_quotes_are_concurrent_with_per_ticker_errors(
    build: MarketFactory, vendor: respx.MockRouter
) -> None:
    vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    vendor.get(f"{TIINGO_URL}/iex/TZUP").mock(return_value=httpx.Response(200, json=[]))
    vendor.get(f"{TIINGO_URL}/iex/DOWN").mock(return_value=httpx.Response(503))
    answers = await build().quotes(["AAPL", "tzup", "DOWN", "AAPL", "bad ticker"])
    assert list(answers) == ["AAPL", "TZUP", "DOWN", "BAD TICKER"]
    assert answers["AAPL"].quote.price == Decimal("148.6")  # type: ignore[union-attr]
    assert isinstance(answers["TZUP"], UnknownTicker)
    assert isinstance(answers["DOWN"], MarketDataUnavailable)
    assert isinstance(answers["BAD TICKER"], UnknownTicker)


async def test_more_than_fifty_quotes_are_refused(build: MarketFactory) -> None:
    with pytest.raises(InvalidInput):
        await build().quotes([f"T{i}" for i in range(51)])


async def test_refresh_fetches_again_and_drops_cached_prices(
    build: MarketFactory, vendor: respx.MockRouter, cache: RedisCache
) -> None:
    vendor.get(f"{TIINGO_URL}/tiingo/daily/AAPL").mock(return_value=ok("tiingo/tiingo_meta.json"))
    prices = vendor.get(f"{TIINGO_URL}/tiingo/daily/AAPL/prices").mock(side_effect=prices_by_params)
    vendor.get(IEX).mock(return_value=ok("tiingo/tiingo_iex.json"))
    market = build()
    await market.last_close("AAPL")
    await market.quote("AAPL")
    result = await market.refresh("AAPL")
    assert prices.call_count == 2 and result.items and not result.stale
    assert await cache.client.get("quote:AAPL") is None
    assert await cache.client.get("last_close:AAPL") is None


async def test_the_reader_answers_stored_closes_in_bulk_without_asking_again(
    build: MarketFactory, googl: respx.Route, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    market = build()
    await market.daily_bars("GOOGL", date(2014, 12, 1), date(2015, 1, 9))
    calls = googl.call_count
    async with sessionmaker() as session:
        instrument = await market.ensure_instrument(session, "GOOGL")
        wanted = {instrument.id: history.Wanted("GOOGL", date(2015, 1, 5), date(2015, 1, 6))}
        closes, unconfirmed = await history.closes(market, session, wanted)
        recent, _ = await history.recent(
            market, session, {instrument.id: "GOOGL"}, date(2015, 1, 4)
        )
    assert googl.call_count == calls and unconfirmed == []
    assert closes.column.tolist() == [0, 0]
    assert [history.EPOCH_DAY + timedelta(days=d) for d in closes.day.tolist()] == [
        date(2015, 1, 5),
        date(2015, 1, 6),
    ]
    assert [Decimal(int(v)).scaleb(-closes.scale) for v in closes.value.tolist()] == [
        Decimal("11.0"),
        Decimal("11.0"),
    ]
    # The day's close and the one before (this vendor answers every weekday, New Year's too).
    assert recent == {
        instrument.id: [(date(2015, 1, 2), Decimal("11.0")), (date(2015, 1, 1), Decimal("11.0"))]
    }


async def test_simulated_prices_are_labelled_in_health(build: MarketFactory) -> None:
    market = build("simulated")
    check = market.health()
    assert check.status == "up" and check.backend == "simulated"
    assert "simulated" in (check.detail or "")
    bars = await market.daily_bars("AAPL", date(2024, 1, 1), date(2024, 1, 31))
    assert bars.provider == "simulated" and len(bars.items) == 23

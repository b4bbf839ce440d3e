"""Polygon: aggregates (daily bars, previous close) and ticker details."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.market.calendar import close_time, date_from_epoch_ms
from app.market.http import VendorHTTP
from app.market.provider import Bar, Quote, TickerInfo, UnknownTicker, VendorDataInvalid

Price = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
# Far more than ten years of daily bars at 50,000 a page: more means a looping cursor.
MAX_PAGES = 20
ASSET_TYPES = {"CS": "stock", "ETF": "etf", "ADRC": "adr", "PFD": "preferred", "FUND": "fund"}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PolygonAgg(_Model):
    t: int = Field(gt=0)
    o: Price
    h: Price
    l: Price  # noqa: E741 - the vendor's name
    c: Price
    v: Amount


class PolygonAggs(_Model):
    status: Literal["OK", "DELAYED"]
    results: list[PolygonAgg] = []
    next_url: str | None = None


class PolygonDetails(_Model):
    ticker: str
    name: str = Field(min_length=1)
    primary_exchange: str | None = None
    type: str | None = None
    currency_name: str | None = None
    description: str | None = None
    list_date: date | None = None
    delisted_utc: datetime | None = None


class PolygonDetailsEnvelope(_Model):
    results: PolygonDetails


AGGS = TypeAdapter(PolygonAggs)
DETAILS = TypeAdapter(PolygonDetailsEnvelope)


def _bar(agg: PolygonAgg) -> Bar:
    # Unadjusted, so a past close is the price actually traded that day; Polygon's
    # aggregates carry no dividend adjustment, so adj_close is the close.
    return Bar(
        date=date_from_epoch_ms(agg.t),
        open=agg.o,
        high=agg.h,
        low=agg.l,
        close=agg.c,
        adj_close=agg.c,
        volume=int(agg.v),
    )


class PolygonProvider:
    name = "polygon"

    def __init__(self, http: VendorHTTP) -> None:
        self.http = http

    async def ticker_info(self, ticker: str) -> TickerInfo:
        data = await self.http.get_json(f"/v3/reference/tickers/{ticker}", ticker)
        details = self.http.validate(DETAILS, data, f"details of {ticker}").results
        return TickerInfo(
            ticker=ticker,
            name=details.name,
            exchange=details.primary_exchange,
            asset_type=ASSET_TYPES.get(details.type or "", (details.type or "").lower() or None),
            currency=(details.currency_name or "usd").upper(),
            description=details.description,
            start_date=details.list_date,
            end_date=details.delisted_utc.date() if details.delisted_utc else None,
        )

    async def daily_bars(self, ticker: str, start: date, end: date) -> list[Bar]:
        path = f"/v2/aggs/ticker/{ticker}/range/1/day/{start.isoformat()}/{end.isoformat()}"
        params: dict[str, str] = {"adjusted": "false", "sort": "asc", "limit": "50000"}
        bars: list[Bar] = []
        for _ in range(MAX_PAGES):
            data = await self.http.get_json(path, ticker, params)
            page = self.http.validate(AGGS, data, f"daily bars of {ticker}")
            bars.extend(_bar(agg) for agg in page.results)
            if not page.next_url:
                return bars
            path, params = _on_our_base_url(page.next_url)
        raise VendorDataInvalid(details={"provider": self.name, "ticker": ticker})

    async def latest_quote(self, ticker: str) -> Quote:
        data = await self.http.get_json(f"/v2/aggs/ticker/{ticker}/prev", ticker)
        page = self.http.validate(AGGS, data, f"previous close of {ticker}")
        if not page.results:
            raise UnknownTicker(details={"ticker": ticker})
        bar = _bar(page.results[-1])
        return Quote(ticker=ticker, price=bar.close, as_of=close_time(bar.date))

    async def aclose(self) -> None:
        await self.http.aclose()


def _on_our_base_url(next_url: str) -> tuple[str, dict[str, str]]:
    """The cursor of `next_url`, asked of our configured base URL with our own credentials.

    The URL names the vendor's public host; following it as is would bypass a proxy or a
    test server set in POLYGON_BASE_URL. The key travels in the Authorization header of
    every request, so the cursor, which carries none, needs nothing added.
    """
    url = httpx.URL(next_url)
    return url.path, dict(url.params)

"""Polygon: aggregates (daily bars, previous close), ticker details, splits and dividends."""

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Generic, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.market.calendar import close_time, date_from_epoch_ms
from app.market.http import VendorHTTP
from app.market.provider import (
    Action,
    ActionType,
    Bar,
    Quote,
    TickerInfo,
    UnknownTicker,
    VendorDataInvalid,
)

Price = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
# Far more than ten years of daily bars at 50,000 a page, or of actions at 1,000 a page:
# more means a looping cursor.
MAX_PAGES = 20
ASSET_TYPES = {"CS": "stock", "ETF": "etf", "ADRC": "adr", "PFD": "preferred", "FUND": "fund"}
# Polygon's cash dividends: regular, special, long- and short-term capital gain.
CASH_DIVIDEND_TYPES = {"CD", "SC", "LT", "ST"}
R = TypeVar("R")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class PolygonPage(_Model, Generic[R]):
    status: Literal["OK", "DELAYED"]
    results: list[R] = []
    next_url: str | None = None


class PolygonAgg(_Model):
    t: int = Field(gt=0)
    o: Price
    h: Price
    l: Price  # noqa: E741 - the vendor's name
    c: Price
    v: Amount


class PolygonSplit(_Model):
    execution_date: date
    split_from: Price
    split_to: Price


class PolygonDividend(_Model):
    ex_dividend_date: date
    cash_amount: Amount | None = None
    currency: str = "USD"
    dividend_type: str | None = None
    pay_date: date | None = None


class PolygonDetails(_Model):
    ticker: str
    name: str = Field(min_length=1)
    primary_exchange: str | None = None
    type: str | None = None
    currency_name: str | None = None
    description: str | None = None
    sic_description: str | None = None
    list_date: date | None = None
    delisted_utc: datetime | None = None


class PolygonDetailsEnvelope(_Model):
    results: PolygonDetails


AGGS = TypeAdapter(PolygonPage[PolygonAgg])
SPLITS = TypeAdapter(PolygonPage[PolygonSplit])
DIVIDENDS = TypeAdapter(PolygonPage[PolygonDividend])
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


def _split(split: PolygonSplit) -> Action | None:
    """The split in lowest terms (Polygon sends 1.0 or 0.5 at times); None for 1-for-1."""
    ratio = Fraction(split.split_to) / Fraction(split.split_from)
    if ratio == 1:
        return None
    return Action(
        ActionType.SPLIT,
        split.execution_date,
        split_to=ratio.numerator,
        split_from=ratio.denominator,
    )


def _dividend(dividend: PolygonDividend) -> Action | None:
    """The cash dividend; None for another type or one without an amount."""
    if dividend.dividend_type not in CASH_DIVIDEND_TYPES or not dividend.cash_amount:
        return None
    return Action(
        ActionType.CASH_DIVIDEND,
        dividend.ex_dividend_date,
        cash_amount=dividend.cash_amount,
        pay_date=dividend.pay_date,
        currency=dividend.currency.upper(),
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
            sector=details.sic_description.title() if details.sic_description else None,
            start_date=details.list_date,
            end_date=details.delisted_utc.date() if details.delisted_utc else None,
        )

    async def daily_bars(self, ticker: str, start: date, end: date) -> list[Bar]:
        path = f"/v2/aggs/ticker/{ticker}/range/1/day/{start.isoformat()}/{end.isoformat()}"
        params = {"adjusted": "false", "sort": "asc", "limit": "50000"}
        aggs = await self._all_pages(AGGS, path, ticker, params, f"daily bars of {ticker}")
        return [_bar(agg) for agg in aggs]

    async def latest_quote(self, ticker: str) -> Quote:
        data = await self.http.get_json(f"/v2/aggs/ticker/{ticker}/prev", ticker)
        page = self.http.validate(AGGS, data, f"previous close of {ticker}")
        if not page.results:
            raise UnknownTicker(details={"ticker": ticker})
        bar = _bar(page.results[-1])
        return Quote(ticker=ticker, price=bar.close, as_of=close_time(bar.date))

    async def corporate_actions(self, ticker: str, start: date, end: date) -> list[Action]:
        """Splits (`/v3/reference/splits`) and cash dividends (`/v3/reference/dividends`)."""
        splits = await self._all_pages(
            SPLITS,
            "/v3/reference/splits",
            ticker,
            _range_params(ticker, "execution_date", start, end),
            f"splits of {ticker}",
        )
        dividends = await self._all_pages(
            DIVIDENDS,
            "/v3/reference/dividends",
            ticker,
            _range_params(ticker, "ex_dividend_date", start, end),
            f"dividends of {ticker}",
        )
        found = [*map(_split, splits), *map(_dividend, dividends)]
        return sorted(
            (a for a in found if a is not None),
            key=lambda a: (a.ex_date, a.type != ActionType.SPLIT),
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _all_pages(
        self,
        adapter: TypeAdapter[PolygonPage[R]],
        path: str,
        ticker: str,
        params: dict[str, str],
        what: str,
    ) -> list[R]:
        """The results of every page, following `next_url` up to MAX_PAGES pages."""
        results: list[R] = []
        for _ in range(MAX_PAGES):
            data = await self.http.get_json(path, ticker, params)
            page = self.http.validate(adapter, data, what)
            results.extend(page.results)
            if not page.next_url:
                return results
            path, params = _on_our_base_url(page.next_url)
        raise VendorDataInvalid(details={"provider": self.name, "ticker": ticker})


def _range_params(ticker: str, field: str, start: date, end: date) -> dict[str, str]:
    return {
        "ticker": ticker,
        f"{field}.gte": start.isoformat(),
        f"{field}.lte": end.isoformat(),
        "limit": "1000",
    }


def _on_our_base_url(next_url: str) -> tuple[str, dict[str, str]]:
    """The cursor of `next_url`, asked of our configured base URL with our own credentials.

    The URL names the vendor's public host; following it as is would bypass a proxy or a
    test server set in POLYGON_BASE_URL. The key travels in the Authorization header of
    every request, so the cursor, which carries none, needs nothing added.
    """
    url = httpx.URL(next_url)
    return url.path, dict(url.params)

"""Tiingo: end-of-day prices, corporate actions and metadata (`/tiingo/daily`), IEX quotes
(`/iex`)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter

from app.market.http import VendorHTTP
from app.market.provider import (
    Action,
    Bar,
    Quote,
    TickerInfo,
    UnknownTicker,
    VendorDataInvalid,
    actions_of_bars,
)

Price = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
Amount = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
OptionalDate = Annotated[date | None, BeforeValidator(lambda v: v or None)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class TiingoMeta(_Model):
    ticker: str
    name: str = Field(min_length=1)
    exchange_code: str | None = Field(default=None, alias="exchangeCode")
    description: str | None = None
    start_date: OptionalDate = Field(default=None, alias="startDate")
    end_date: OptionalDate = Field(default=None, alias="endDate")


class TiingoBar(_Model):
    date: datetime
    open: Price
    high: Price
    low: Price
    close: Price
    adj_close: Price = Field(alias="adjClose")
    volume: Amount
    div_cash: Amount = Field(default=Decimal(0), alias="divCash")
    split_factor: Price = Field(default=Decimal(1), alias="splitFactor")


class TiingoIex(_Model):
    ticker: str
    tngo_last: Price | None = Field(default=None, alias="tngoLast")
    last: Price | None = None
    prev_close: Price | None = Field(default=None, alias="prevClose")
    timestamp: datetime


META = TypeAdapter(TiingoMeta)
BARS = TypeAdapter(list[TiingoBar])
IEX = TypeAdapter(list[TiingoIex])


def tiingo_symbol(ticker: str) -> str:
    """Tiingo writes share classes with a dash: BRK.B is BRK-B."""
    return ticker.replace(".", "-")


class TiingoProvider:
    name = "tiingo"

    def __init__(self, http: VendorHTTP) -> None:
        self.http = http

    async def ticker_info(self, ticker: str) -> TickerInfo:
        data = await self.http.get_json(f"/tiingo/daily/{tiingo_symbol(ticker)}", ticker)
        meta = self.http.validate(META, data, f"metadata of {ticker}")
        return TickerInfo(
            ticker=ticker,
            name=meta.name,
            exchange=meta.exchange_code,
            asset_type=None,
            currency="USD",
            description=meta.description,
            start_date=meta.start_date,
            end_date=meta.end_date,
        )

    async def daily_bars(self, ticker: str, start: date, end: date) -> list[Bar]:
        params = {
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
            "resampleFreq": "daily",
            "format": "json",
        }
        path = f"/tiingo/daily/{tiingo_symbol(ticker)}/prices"
        data = await self.http.get_json(path, ticker, params)
        rows = self.http.validate(BARS, data, f"daily prices of {ticker}")
        return [
            Bar(
                date=row.date.astimezone(UTC).date(),  # midnight UTC of the market date
                open=row.open,
                high=row.high,
                low=row.low,
                close=row.close,
                adj_close=row.adj_close,
                volume=int(row.volume),
                dividend=row.div_cash,
                split_factor=row.split_factor,
            )
            for row in rows
        ]

    async def latest_quote(self, ticker: str) -> Quote:
        data = await self.http.get_json(f"/iex/{tiingo_symbol(ticker)}", ticker)
        rows = self.http.validate(IEX, data, f"quote of {ticker}")
        if not rows:
            raise UnknownTicker(details={"ticker": ticker})
        row = rows[0]
        price = row.tngo_last or row.last
        if price is None:
            raise VendorDataInvalid(details={"provider": self.name, "ticker": ticker})
        return Quote(ticker=ticker, price=price, as_of=row.timestamp, previous_close=row.prev_close)

    async def corporate_actions(self, ticker: str, start: date, end: date) -> list[Action]:
        """The splits and dividends the daily rows carry (`splitFactor`, `divCash`)."""
        return actions_of_bars(await self.daily_bars(ticker, start, end))

    async def aclose(self) -> None:
        await self.http.aclose()

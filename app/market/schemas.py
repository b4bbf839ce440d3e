"""What the market routes answer: each value with its provider, when it was fetched, if stale."""

from datetime import date, datetime
from typing import Annotated, TypedDict

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.schemas import DecimalString
from app.market.models import UNCLASSIFIED
from app.market.provider import ActionType, Bar
from app.market.results import ActionsResult, BarsResult, QuoteResult, Sourced, TickerResult


class SourceFields(BaseModel):
    provider: str = Field(description="The provider that answered (`simulated` is not market data)")
    fetched_at: datetime = Field(description="When the provider answered")
    stale: bool = Field(description="True when the provider failed and an older value is served")
    age_seconds: float = Field(description="Seconds since fetched_at")


class Source(TypedDict):
    provider: str
    fetched_at: datetime
    stale: bool
    age_seconds: float


def source(result: Sourced) -> Source:
    return {
        "provider": result.provider,
        "fetched_at": result.fetched_at,
        "stale": result.stale,
        "age_seconds": round(result.age_seconds, 3),
    }


class TickerUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sector": "Information Technology"}]}
    )

    sector: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None
    ) = Field(description="null clears it: the vendor's, or unclassified")


class TickerRead(SourceFields):
    ticker: str
    name: str
    exchange: str | None
    asset_type: str | None
    currency: str
    description: str | None
    start_date: date | None = Field(description="First date the provider has prices for")
    end_date: date | None = Field(description="Last date the provider has prices for")
    sector: str = Field(description="The vendor's industry or the one set here; else unclassified")

    @classmethod
    def of(cls, result: TickerResult, sector: str | None = None) -> "TickerRead":
        info = result.info
        return cls(
            ticker=info.ticker,
            name=info.name,
            exchange=info.exchange,
            asset_type=info.asset_type,
            currency=info.currency,
            description=info.description,
            start_date=info.start_date,
            end_date=info.end_date,
            sector=sector or info.sector or UNCLASSIFIED,
            **source(result),
        )


class PriceBarRead(BaseModel):
    date: date
    open: DecimalString
    high: DecimalString
    low: DecimalString
    close: DecimalString
    adj_close: DecimalString = Field(description="Close adjusted for splits and dividends")
    volume: int


class PricesHead(SourceFields):
    ticker: str
    start: date
    end: date


class PricesRead(PricesHead):
    items: list[PriceBarRead] = Field(description="Daily bars, oldest first; market days only")


def prices_json(result: BarsResult, start: date, end: date) -> bytes:
    """PricesRead as JSON with the bars written directly (by the database where it wrote
    them): a 10-year range (2,500 bars) costs about 3 ms this way and 15 through pydantic."""
    head = PricesHead(ticker=result.ticker, start=start, end=end, **source(result))
    bars = result.items_json or f"[{','.join(map(_bar_json, result.items))}]"
    return f'{head.model_dump_json()[:-1]},"items":{bars}}}'.encode()


def _bar_json(bar: Bar) -> str:
    return (
        f'{{"date":"{bar.date.isoformat()}","open":"{bar.open:f}","high":"{bar.high:f}",'
        f'"low":"{bar.low:f}","close":"{bar.close:f}","adj_close":"{bar.adj_close:f}",'
        f'"volume":{bar.volume}}}'
    )


class QuoteRead(SourceFields):
    ticker: str
    price: DecimalString
    as_of: datetime = Field(description="When the price was current")
    previous_close: DecimalString | None

    @classmethod
    def of(cls, result: QuoteResult) -> "QuoteRead":
        quote = result.quote
        return cls(
            ticker=quote.ticker,
            price=quote.price,
            as_of=quote.as_of,
            previous_close=quote.previous_close,
            **source(result),
        )


class QuoteFailure(BaseModel):
    code: str
    message: str


class QuoteError(BaseModel):
    ticker: str
    error: QuoteFailure


class QuotesRead(BaseModel):
    items: list[QuoteRead] = Field(description="The quotes served, in the order asked")
    errors: list[QuoteError] = Field(description="The tickers that could not be quoted, and why")
    stale: bool = Field(description="True when any quote served is stale")


class CorporateActionRead(BaseModel):
    ticker: str
    type: ActionType
    ex_date: date
    pay_date: date | None = Field(description="Dividends: when it is paid, where known")
    split_to: int = Field(description="Splits: new shares for every `split_from` old ones")
    split_from: int
    cash_amount: DecimalString = Field(description="Dividends: cash a share")
    currency: str
    source: str = Field(description="The provider that reported it")


class ActionsRead(SourceFields):
    ticker: str
    items: list[CorporateActionRead] = Field(description="Oldest ex-date first")

    @classmethod
    def of(cls, result: ActionsResult) -> "ActionsRead":
        items = [
            CorporateActionRead(
                ticker=result.ticker,
                type=a.type,
                ex_date=a.ex_date,
                pay_date=a.pay_date,
                split_to=a.split_to,
                split_from=a.split_from,
                cash_amount=a.cash_amount,
                currency=a.currency,
                source=a.source,
            )
            for a in result.items
        ]
        return cls(ticker=result.ticker, items=items, **source(result))

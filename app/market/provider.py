"""The market-data provider interface and the records every provider returns."""

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from http import HTTPStatus
from typing import Any, Protocol

from app.core.errors import DomainError, InvalidInput, NotFound, ServiceUnavailable


@dataclass(frozen=True, slots=True)
class TickerInfo:
    ticker: str
    name: str
    exchange: str | None
    asset_type: str | None
    currency: str
    description: str | None
    start_date: date | None
    end_date: date | None
    sector: str | None = None


@dataclass(frozen=True, slots=True)
class Bar:
    date: date
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    adj_close: Decimal
    volume: int
    dividend: Decimal = Decimal(0)
    split_factor: Decimal = Decimal(1)


class ActionType(enum.StrEnum):
    SPLIT = "split"
    CASH_DIVIDEND = "cash_dividend"


@dataclass(frozen=True, slots=True)
class Action:
    """A corporate action: a split of `split_to` new shares for `split_from` old ones (4-for-1
    is 4/1, a 1-for-10 reverse split 1/10), or a cash dividend of `cash_amount` a share."""

    type: ActionType
    ex_date: date
    split_to: int = 1
    split_from: int = 1
    cash_amount: Decimal = Decimal(0)
    pay_date: date | None = None
    currency: str = "USD"


# Vendors round a factor to a few decimals (Tiingo: 1.04347826 for 24-for-23, 0.33333333
# for 1-for-3): the split is the nearest ratio whose old-shares term is at most this.
SPLIT_FROM_LIMIT = 10_000


def actions_of_bars(bars: Iterable[Bar]) -> list[Action]:
    """The actions daily bars carry: a split where the factor is not 1, a dividend where
    the cash is above 0 (Tiingo's `splitFactor` and `divCash`)."""
    found = []
    for bar in bars:
        if bar.split_factor != 1 and bar.split_factor > 0:
            ratio = Fraction(bar.split_factor).limit_denominator(SPLIT_FROM_LIMIT)
            found.append(
                Action(
                    ActionType.SPLIT,
                    bar.date,
                    split_to=ratio.numerator,
                    split_from=ratio.denominator,
                )
            )
        if bar.dividend > 0:
            found.append(Action(ActionType.CASH_DIVIDEND, bar.date, cash_amount=bar.dividend))
    return found


@dataclass(frozen=True, slots=True)
class Quote:
    ticker: str
    price: Decimal
    as_of: datetime
    previous_close: Decimal | None = None


class MarketDataProvider(Protocol):
    name: str

    async def ticker_info(self, ticker: str) -> TickerInfo:
        """Metadata of a ticker; raises UnknownTicker when the vendor does not know it."""
        ...

    async def daily_bars(self, ticker: str, start: date, end: date) -> list[Bar]:
        """Daily bars from start to end inclusive, oldest first."""
        ...

    async def latest_quote(self, ticker: str) -> Quote: ...

    async def corporate_actions(self, ticker: str, start: date, end: date) -> list[Action]:
        """Splits and cash dividends with an ex-date from start to end, oldest first."""
        ...

    async def aclose(self) -> None: ...


class UnknownTicker(NotFound):
    code = "unknown_ticker"
    message = "The ticker is not known to the market-data provider."


class UnknownTickerInRequest(InvalidInput):
    code = "unknown_ticker"
    message = "The ticker is not known to the market-data provider."


RETRY_AFTER_SECONDS = 5


class MarketDataUnavailable(ServiceUnavailable):
    """Nothing to serve now; it always says when to try again (`Retry-After`)."""

    code = "market_data_unavailable"
    message = "Market data is unavailable right now; try again shortly."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        super().__init__(message, code=code, details=details, headers=headers or retry)


class MarketDataUnauthorized(DomainError):
    status_code = HTTPStatus.BAD_GATEWAY
    code = "market_data_unauthorized"
    message = "The market-data vendor refused Folio's key or plan."


class VendorDataInvalid(MarketDataUnavailable):
    message = "The market-data vendor sent data Folio refused; try again shortly."


class VendorRateLimited(MarketDataUnavailable):
    message = "Folio's allowance of market-data calls is spent for now; try again shortly."


class CircuitOpen(MarketDataUnavailable):
    message = "The market-data vendor is failing; Folio is not asking it for a short while."

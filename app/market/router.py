"""Market data over HTTP: ticker metadata, daily prices, quotes and a forced refresh."""

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.auth.dependencies import CsrfFailed, InvalidCredentials, guard, require
from app.auth.permissions import Permission, PermissionDenied
from app.core.database import SessionDep, utcnow
from app.core.errors import InvalidInput, responses
from app.core.schemas import IsoDate
from app.market import sectors
from app.market.calendar import new_york_date
from app.market.provider import (
    MarketDataUnauthorized,
    MarketDataUnavailable,
    UnknownTicker,
)
from app.market.results import BarsResult, QuoteResult
from app.market.schemas import (
    ActionsRead,
    PricesRead,
    QuoteError,
    QuoteFailure,
    QuoteRead,
    QuotesRead,
    TickerRead,
    TickerUpdate,
    prices_json,
)
from app.market.service import MAX_QUOTES, REFRESH_DAYS
from app.state import MarketDep
from app.users.models import User

DEFAULT_RANGE_DAYS = 365
MAX_RANGE_DAYS = 20 * 366
STALE_HEADER = "X-Data-Stale"

router = APIRouter(
    prefix="/market",
    tags=["market"],
    responses=responses(
        InvalidCredentials, PermissionDenied, MarketDataUnavailable, MarketDataUnauthorized
    ),
)

Reader = Depends(guard(Permission.MARKET_READ))
Refresher = Depends(guard(Permission.MARKET_REFRESH))


def mark_stale(response: Response, stale: bool) -> None:
    """A stale answer says so in a header too, so a client can tell without reading the body."""
    if stale:
        response.headers[STALE_HEADER] = "true"


def json_answer(body: bytes | str, stale: bool) -> Response:
    """An answer already serialized (FastAPI's validation and encoding were the cost)."""
    response = Response(body, media_type="application/json")
    mark_stale(response, stale)
    return response


def prices_response(result: BarsResult, start: date, end: date) -> Response:
    return json_answer(prices_json(result, start, end), result.stale)


# First: the most asked for, and routes are tried in order.
@router.get(
    "/quotes",
    response_model=QuotesRead,
    dependencies=[Reader],
    responses=responses(InvalidInput),
    summary=f"Latest prices of up to {MAX_QUOTES} tickers; a ticker's error does not fail the rest",
    description="A fresh, complete answer is given again to the same `tickers` for up to a "
    "second (its `age_seconds` as then).",
)
async def read_quotes(
    market: MarketDep,
    tickers: str = Query(..., description="Comma-separated, e.g. AAPL,MSFT", max_length=1000),
) -> Response:
    if (recent := market.recent_quotes.get(tickers)) is not None:
        return json_answer(recent, stale=False)
    asked = [t for t in (part.strip() for part in tickers.split(",")) if t]
    if not asked:
        raise InvalidInput("Name at least one ticker.", details={"tickers": tickers})
    answers = await market.quotes(asked)
    items = [QuoteRead.of(a) for a in answers.values() if isinstance(a, QuoteResult)]
    failures = {t: a for t, a in answers.items() if not isinstance(a, QuoteResult)}
    if not items:
        # Nothing to serve: a vendor outage is the answer's status, not a per-ticker detail.
        outage = next((e for e in failures.values() if not isinstance(e, UnknownTicker)), None)
        if outage is not None:
            raise outage
    stale = any(item.stale for item in items)
    errors = [
        QuoteError(ticker=t, error=QuoteFailure(code=e.code, message=e.message))
        for t, e in failures.items()
    ]
    body = QuotesRead(items=items, errors=errors, stale=stale).model_dump_json().encode()
    if not stale and not errors:
        market.recent_quotes[tickers] = body
    return json_answer(body, stale)


@router.get(
    "/tickers/{ticker}",
    response_model=TickerRead,
    dependencies=[Reader],
    responses=responses(UnknownTicker),
    summary="A ticker's name, exchange, currency and price history span",
)
async def read_ticker(
    ticker: str, market: MarketDep, session: SessionDep, response: Response
) -> TickerRead:
    result = await market.ticker_info(ticker)
    mark_stale(response, result.stale)
    return TickerRead.of(result, await sectors.stored_sector(session, ticker))


@router.patch(
    "/tickers/{ticker}",
    response_model=TickerRead,
    responses=responses(UnknownTicker),
    summary="Set a ticker's sector (admins and PMs; audited)",
    description="`null` sets it back to the vendor's (unclassified where it gives none).",
)
async def classify_ticker(
    ticker: str,
    body: TickerUpdate,
    user: Annotated[User, Depends(require(Permission.MARKET_CLASSIFY))],
    market: MarketDep,
    session: SessionDep,
) -> TickerRead:
    instrument = await sectors.classify(session, market, user.id, ticker, body.sector)
    return TickerRead.of(await market.ticker_info(ticker), instrument.sector)


@router.get(
    "/tickers/{ticker}/prices",
    response_model=PricesRead,
    dependencies=[Reader],
    responses=responses(UnknownTicker, InvalidInput),
    summary=f"Daily bars from start to end (default: the last {DEFAULT_RANGE_DAYS} days)",
)
async def read_prices(
    ticker: str,
    market: MarketDep,
    start: IsoDate | None = None,
    end: IsoDate | None = Query(None, description="Default: today in New York"),
) -> Response:
    end = end or new_york_date(utcnow())
    # The default start of an end in year 1 would be before the first date there is.
    start = start or max(end, date.min + timedelta(days=DEFAULT_RANGE_DAYS)) - timedelta(
        days=DEFAULT_RANGE_DAYS
    )
    if start > end:
        raise InvalidInput("start is after end.", details={"start": start, "end": end})
    if (end - start).days > MAX_RANGE_DAYS:
        raise InvalidInput(
            f"At most {MAX_RANGE_DAYS} days at a time.", details={"start": start, "end": end}
        )
    return prices_response(await market.daily_bars(ticker, start, end, as_json=True), start, end)


@router.get(
    "/tickers/{ticker}/actions",
    response_model=ActionsRead,
    dependencies=[Reader],
    responses=responses(UnknownTicker, InvalidInput),
    summary="A ticker's splits and cash dividends, by ex-date",
    description=(
        "A split of `split_to` new shares for every `split_from` old ones (4-for-1 is 4/1, a "
        "1-for-10 reverse split 1/10); a dividend of `cash_amount` a share, paid on "
        "`pay_date` where the vendor gives one. Known up to the last close."
    ),
)
async def read_actions(
    ticker: str,
    market: MarketDep,
    response: Response,
    start: IsoDate | None = None,
    end: IsoDate | None = None,
) -> ActionsRead:
    if start is not None and end is not None and start > end:
        raise InvalidInput("start is after end.", details={"start": start, "end": end})
    result = await market.corporate_actions(ticker, start, end)
    mark_stale(response, result.stale)
    return ActionsRead.of(result)


@router.post(
    "/tickers/{ticker}/refresh",
    response_model=PricesRead,
    dependencies=[Refresher],
    responses=responses(UnknownTicker, CsrfFailed),
    summary=f"Fetch the last {REFRESH_DAYS} days of bars from the vendor again",
)
async def refresh_ticker(ticker: str, market: MarketDep) -> Response:
    result = await market.refresh(ticker)
    end = new_york_date(result.fetched_at)
    return prices_response(result, end - timedelta(days=REFRESH_DAYS), end)

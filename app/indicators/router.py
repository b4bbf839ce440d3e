"""Technical indicators over HTTP."""

from anyio import to_thread
from fastapi import APIRouter, Depends, Query, Response

from app.auth.dependencies import InvalidCredentials, guard
from app.auth.permissions import Permission, PermissionDenied
from app.core.database import SessionDep
from app.core.errors import InvalidInput, responses
from app.core.pagination import PageDep
from app.core.schemas import IsoDate
from app.indicators.latest import STORED_NAMES
from app.indicators.schemas import IndicatorsRead, ScreenRead, indicators_json
from app.indicators.screen import MAX_CONDITIONS, InvalidScreen, screen
from app.indicators.service import indicator_table
from app.indicators.spec import DEFAULT_NAMES, InvalidIndicator
from app.market.provider import MarketDataUnauthorized, MarketDataUnavailable, UnknownTicker
from app.market.router import mark_stale
from app.state import MarketDep

router = APIRouter(
    prefix="/market",
    tags=["indicators"],
    responses=responses(
        InvalidCredentials, PermissionDenied, MarketDataUnavailable, MarketDataUnauthorized
    ),
)


@router.get(
    "/tickers/{ticker}/indicators",
    response_model=IndicatorsRead,
    dependencies=[Depends(guard(Permission.MARKET_READ))],
    responses=responses(UnknownTicker, InvalidIndicator, InvalidInput),
    summary="Technical indicators (TA-Lib) on a ticker's split-adjusted daily bars",
    description=(
        "Names: `sma_N`, `ema_N`, `rsi_N`, `atr_N`, `macd_F_S_G` (with `_signal`, `_hist`), "
        "`bbands_N_K` (`_upper`, `_middle`, `_lower`; K standard deviations, like 2 or 2.5), "
        "`stoch_N_K_D` (slow stochastic: `_k`, `_d`) and `obv`. Every value is computed over "
        "the ticker's whole history, so it does not depend on the range asked; a value still "
        "warming up is null."
    ),
)
async def read_indicators(
    ticker: str,
    market: MarketDep,
    session: SessionDep,
    names: str | None = Query(
        None, description=f"Comma-separated. Default: {','.join(DEFAULT_NAMES)}"
    ),
    start: IsoDate | None = Query(None, description="Default: a year before end"),
    end: IsoDate | None = Query(None, description="Default: today in New York"),
) -> Response:
    table = await indicator_table(market, session, ticker, names, start, end)
    body = await to_thread.run_sync(indicators_json, table)
    response = Response(body, media_type="application/json")
    mark_stale(response, table.stale)
    return response


@router.get(
    "/screen",
    response_model=ScreenRead,
    dependencies=[Depends(guard(Permission.MARKET_READ))],
    responses=responses(InvalidScreen, InvalidIndicator),
    summary="Tickers whose latest stored indicator values meet every condition",
    description=(
        "Answered from the values stored after each close on each ticker's newest bar: the "
        f"columns of {', '.join(STORED_NAMES)}, and the split-adjusted `close` and `volume`. "
        "Each `where` is `<column> <operator> <number or column>` with "
        "operators `<` `<=` `>` `>=` `=` `!=`, like `rsi_14<30` or `close>sma_200`; "
        "several are all required. A column that is not stored matches nothing."
    ),
)
async def screen_tickers(
    session: SessionDep,
    page: PageDep,
    where: list[str] = Query(
        [], description=f"From 1 to {MAX_CONDITIONS} conditions, all required"
    ),
    tickers: str | None = Query(
        None, max_length=10_000, description="Comma-separated. Default: every stored ticker"
    ),
) -> ScreenRead:
    return ScreenRead.of(await screen(session, where, tickers), page.limit, page.offset)

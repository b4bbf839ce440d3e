"""Strategies, their signals and events: everyone signed in reads them; admins, PMs and
analysts create, change, evaluate and delete them."""

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Response
from fastapi.responses import JSONResponse

from app.auth.dependencies import CsrfFailed, InvalidCredentials, require
from app.auth.permissions import Permission, PermissionDenied
from app.core.database import SessionDep
from app.core.errors import InvalidInput, responses
from app.core.pagination import PageDep
from app.core.schemas import IsoDate, PlainInt, StrictBool
from app.jobs.tasks import Resources, evaluate_range
from app.market.provider import MarketDataUnauthorized, MarketDataUnavailable
from app.portfolios.service import PortfolioArchived, PortfolioNotFound
from app.state import AppStateDep, JobQueueDep, MarketDep
from app.strategies import evaluation, events, service, signals
from app.strategies.kinds import InvalidStrategyParams
from app.strategies.models import SignalStatus, SignalType
from app.strategies.schemas import (
    EvaluateRequest,
    EvaluationJob,
    EvaluationRead,
    EventPage,
    SignalPage,
    SignalRead,
    SignalUpdate,
    StrategyCreate,
    StrategyPage,
    StrategyRead,
    StrategyUpdate,
)
from app.strategies.service import (
    StrategyExists,
    StrategyHasSignals,
    StrategyNotFound,
    UnknownTickers,
)
from app.strategies.signals import IllegalSignalStatus, SignalFilter, SignalNotFound
from app.users.models import User

router = APIRouter(
    tags=["strategies"], responses=responses(InvalidCredentials, PermissionDenied, CsrfFailed)
)

# Strategies' ids are 32-bit integers, signals' 64-bit.
StrategyId = Annotated[PlainInt, Path(ge=1, le=2**31 - 1, description="The strategy's id")]
SignalId = Annotated[PlainInt, Path(ge=1, le=2**63 - 1, description="The signal's id")]
Reader = Depends(require(Permission.STRATEGIES_READ))
Writer = Annotated[User, Depends(require(Permission.STRATEGIES_WRITE))]
ReaderUser = Annotated[User, Reader]


async def existing_strategy(strategy_id: StrategyId, session: SessionDep) -> int:
    """The id of a strategy that exists, else 404."""
    return (await service.get(session, strategy_id)).id


ExistingStrategy = Annotated[int, Depends(existing_strategy)]
SETTINGS_ERRORS = responses(
    InvalidStrategyParams,
    UnknownTickers,
    PortfolioNotFound,
    PortfolioArchived,
    StrategyExists,
    MarketDataUnavailable,
    MarketDataUnauthorized,
)


@router.get(
    "/strategies",
    response_model=StrategyPage,
    dependencies=[Reader],
    summary="Strategies, by name",
)
async def list_strategies(user: ReaderUser, session: SessionDep, page: PageDep) -> StrategyPage:
    items, total = await service.list_strategies(session, user, page.limit, page.offset)
    return StrategyPage(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/strategies",
    response_model=StrategyRead,
    status_code=201,
    responses=SETTINGS_ERRORS,
    summary="Define a strategy",
    description=(
        "Kinds and their parameters: `sma_cross` and `ema_cross` {fast, slow} (fast < slow), "
        "`macd_cross` {fast, slow, signal}, `rsi_threshold` {period, lower, upper} "
        "(0 < lower < upper < 100), `bollinger_reversion` {period, k} (k > 0). The tickers are "
        "checked with the market-data provider; a portfolio must be one you may trade in."
    ),
)
async def create_strategy(
    body: StrategyCreate, user: Writer, session: SessionDep, market: MarketDep
) -> StrategyRead:
    return await service.create(session, market, user, body)


@router.get(
    "/strategies/{strategy_id}",
    response_model=StrategyRead,
    dependencies=[Reader],
    responses=responses(StrategyNotFound),
    summary="A strategy",
)
async def read_strategy(
    strategy_id: StrategyId, user: ReaderUser, session: SessionDep
) -> StrategyRead:
    return await service.read(session, user, strategy_id)


@router.patch(
    "/strategies/{strategy_id}",
    response_model=StrategyRead,
    responses=responses(StrategyNotFound) | SETTINGS_ERRORS,
    summary="Change a strategy's settings; `active: false` deactivates it",
)
async def update_strategy(
    strategy_id: StrategyId,
    body: StrategyUpdate,
    user: Writer,
    session: SessionDep,
    market: MarketDep,
) -> StrategyRead:
    return await service.update(session, market, user, strategy_id, body)


@router.delete(
    "/strategies/{strategy_id}",
    status_code=204,
    response_class=Response,
    responses=responses(StrategyNotFound, StrategyHasSignals, PortfolioNotFound),
    summary="Delete a strategy that has no signals (deactivate one that has)",
)
async def delete_strategy(strategy_id: StrategyId, user: Writer, session: SessionDep) -> Response:
    await service.delete(session, user, strategy_id)
    return Response(status_code=204)


@router.post(
    "/strategies/{strategy_id}/evaluate",
    response_model=EvaluationRead,
    responses=responses(StrategyNotFound, InvalidInput, PortfolioNotFound)
    | {202: {"model": EvaluationJob, "description": "With `background=true`: started"}},
    summary="Store the BUY and SELL signals of every bar of a date range",
    description=(
        "Each ticker's indicators are computed over its whole split-adjusted history, so a "
        "signal never depends on the range asked. Signals are unique per strategy, ticker and "
        "date: evaluating again stores nothing new. A ticker whose data cannot be had or "
        "confirmed is skipped, named in `errors` and recorded as an `error` event. With "
        "`background=true` the worker evaluates (202 with its `job_id`; `GET /jobs/{id}` "
        "shows its progress); in the embedded mode this process does, after answering."
    ),
)
async def evaluate_strategy(
    strategy_id: StrategyId,
    body: EvaluateRequest,
    user: Writer,
    session: SessionDep,
    state: AppStateDep,
    queue: JobQueueDep,
    work: BackgroundTasks,
    background: Annotated[StrictBool, Query(description="Leave it to the worker")] = False,
) -> EvaluationRead | JSONResponse:
    strategy = await service.get(session, strategy_id)
    await service.check_may_change(session, user, strategy)
    if not background:
        return await evaluation.evaluate(session, state.market, strategy, body.start, body.end)
    if body.start > body.end:
        raise InvalidInput("start is after end.", details={"start": body.start, "end": body.end})
    job_id = None
    if queue is None:
        found = Resources(state.sessions, state.market)
        work.add_task(evaluate_range, found, strategy_id, body.start, body.end)
    else:
        job_id = await queue.configure_task("evaluate_strategy").defer_async(
            strategy_id=strategy_id,
            start=body.start.isoformat(),
            end=body.end.isoformat(),
            requested_by=str(user.id),
        )
    return JSONResponse(EvaluationJob(job_id=job_id).model_dump(), status_code=202)


@router.get(
    "/strategies/{strategy_id}/signals",
    response_model=SignalPage,
    dependencies=[Reader],
    responses=responses(StrategyNotFound),
    summary="A strategy's signals, newest bar first",
)
async def list_signals(
    strategy_id: ExistingStrategy,
    session: SessionDep,
    page: PageDep,
    ticker: Annotated[str | None, Query(max_length=16)] = None,
    type: SignalType | None = None,
    status: SignalStatus | None = None,
    start: IsoDate | None = None,
    end: IsoDate | None = None,
) -> SignalPage:
    found = SignalFilter(ticker, type, status, start, end)
    items, total = await signals.list_signals(session, strategy_id, found, page.limit, page.offset)
    return SignalPage(items=items, total=total, limit=page.limit, offset=page.offset)


@router.patch(
    "/signals/{signal_id}",
    response_model=SignalRead,
    responses=responses(SignalNotFound, IllegalSignalStatus),
    summary="Mark a new signal acted or ignored",
)
async def update_signal(
    signal_id: SignalId, body: SignalUpdate, _: Writer, session: SessionDep
) -> SignalRead:
    return await signals.set_status(session, signal_id, SignalStatus(body.status))


@router.get(
    "/strategies/{strategy_id}/events",
    response_model=EventPage,
    dependencies=[Reader],
    responses=responses(StrategyNotFound),
    summary="What happened to a strategy, newest first",
)
async def list_events(
    strategy_id: ExistingStrategy, user: ReaderUser, session: SessionDep, page: PageDep
) -> EventPage:
    items, total = await events.list_events(session, user, strategy_id, page.limit, page.offset)
    return EventPage(items=items, total=total, limit=page.limit, offset=page.offset)

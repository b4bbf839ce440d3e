"""Backtests and parameter sweeps: admins, PMs and analysts run them and read their own."""

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Response
from procrastinate import App
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.dependencies import CsrfFailed, InvalidCredentials, require
from app.auth.permissions import Permission, PermissionDenied
from app.backtests import service
from app.backtests.models import Backtest
from app.backtests.schemas import BacktestPage, BacktestRead, BacktestRequest, SweepRequest
from app.backtests.service import BacktestFinished, BacktestNotFound
from app.backtests.sweep import TooFewBars, TooManyCombinations
from app.core.database import SessionDep
from app.core.errors import InvalidInput, responses
from app.core.pagination import PageDep
from app.core.schemas import PlainInt
from app.market.provider import (
    MarketDataUnauthorized,
    MarketDataUnavailable,
    UnknownTickerInRequest,
)
from app.state import AppStateDep, JobQueueDep
from app.strategies.kinds import InvalidStrategyParams
from app.strategies.service import StrategyNotFound
from app.users.models import User

router = APIRouter(
    prefix="/backtests",
    tags=["backtests"],
    responses=responses(InvalidCredentials, PermissionDenied, CsrfFailed),
)

BacktestId = Annotated[PlainInt, Path(ge=1, le=2**63 - 1, description="The backtest's id")]
Runner = Annotated[User, Depends(require(Permission.BACKTESTS_RUN))]
JSON = "application/json"
READ: dict[int | str, dict[str, Any]] = {200: {"model": BacktestRead}}
ACCEPTED: dict[int | str, dict[str, Any]] = {202: {"model": BacktestRead}}
REQUEST_ERRORS = responses(
    InvalidInput,
    InvalidStrategyParams,
    StrategyNotFound,
    UnknownTickerInRequest,
    TooFewBars,
    TooManyCombinations,
    MarketDataUnavailable,
    MarketDataUnauthorized,
)
RUN_TASK = "run_backtest"


async def _start(
    request: BacktestRequest | SweepRequest,
    user: User,
    session: AsyncSession,
    state: AppStateDep,
    queue: App | None,
    background: BackgroundTasks,
) -> Response:
    """Check and store the request, then hand it to the worker (or to this process)."""
    backtest = await service.submit(session, state.market, user, request)
    await session.commit()  # the worker must find it
    if queue is None:
        background.add_task(service.run, state.sessions, state.market, backtest.id)
    else:
        task = queue.configure_task(RUN_TASK)
        backtest.job_id = await task.defer_async(backtest_id=backtest.id, requested_by=str(user.id))
        await session.commit()
    return _json(backtest, 202)


def _json(backtest: Backtest, status: int = 200) -> Response:
    return Response(service.read_json(backtest), status_code=status, media_type=JSON)


@router.post(
    "",
    status_code=202,
    response_class=Response,
    responses=ACCEPTED | REQUEST_ERRORS,
    summary="Backtest a strategy (its id, or a kind and parameters) on one ticker's bars",
    description=(
        "Checked at once (422 for an unknown ticker, invalid parameters, too few bars for the "
        "warm-up, cash <= 0, commission < 0), then run on the worker: follow "
        "`GET /backtests/{id}` (or the job). Decisions are taken on each bar's close from "
        "indicators computed over the range's split-adjusted bars; a market order fills at "
        "the next bar's open (or that close with `fill: close`), buying every whole share the "
        "cash affords with the commission, selling them all."
    ),
)
async def run_backtest(
    body: BacktestRequest,
    user: Runner,
    session: SessionDep,
    state: AppStateDep,
    queue: JobQueueDep,
    background: BackgroundTasks,
) -> Response:
    return await _start(body, user, session, state, queue, background)


@router.post(
    "/sweep",
    status_code=202,
    response_class=Response,
    responses=ACCEPTED | REQUEST_ERRORS,
    summary="Backtest every combination of a parameter grid",
    description=(
        "At most 10,000 combinations; those the kind forbids (such as fast >= slow) are "
        "skipped and counted in `skipped`, as are those the range has too few bars for. Each "
        "result equals the single backtest with its parameters. Reports progress as it goes; "
        "`POST /backtests/{id}/cancel` stops it."
    ),
)
async def run_sweep(
    body: SweepRequest,
    user: Runner,
    session: SessionDep,
    state: AppStateDep,
    queue: JobQueueDep,
    background: BackgroundTasks,
) -> Response:
    return await _start(body, user, session, state, queue, background)


@router.get("", response_model=BacktestPage, summary="Your backtests and sweeps, newest first")
async def list_backtests(user: Runner, session: SessionDep, page: PageDep) -> BacktestPage:
    items, total = await service.list_backtests(session, user, page.limit, page.offset)
    return BacktestPage(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get(
    "/{backtest_id}",
    response_class=Response,
    responses=READ | responses(BacktestNotFound),
    summary="A backtest or sweep: its status and progress, and its result once done",
)
async def read_backtest(backtest_id: BacktestId, user: Runner, session: SessionDep) -> Response:
    return _json(await service.get(session, user, backtest_id))


@router.post(
    "/{backtest_id}/cancel",
    response_class=Response,
    responses=READ | responses(BacktestNotFound, BacktestFinished),
    summary="Stop a queued or running backtest or sweep",
)
async def cancel_backtest(
    backtest_id: BacktestId, user: Runner, session: SessionDep, queue: JobQueueDep
) -> Response:
    backtest = await service.cancel(session, user, backtest_id)
    await session.commit()
    if queue is not None and backtest.job_id is not None:  # a job still waiting never starts
        await queue.job_manager.cancel_job_by_id_async(backtest.job_id)
    return _json(backtest)

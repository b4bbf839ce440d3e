"""Backtests and sweeps: checked when asked (so bad input is a 422, not a failed job), run on
the worker (or in-process in the embedded mode), stored with their result, read back by
whoever asked (or an admin)."""

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.permissions import Role, effective_role
from app.backtests import results
from app.backtests.engine import Terms
from app.backtests.fills import Fill
from app.backtests.models import FINAL, Backtest, BacktestKind, BacktestStatus
from app.backtests.schemas import BacktestRequest, BacktestSummary, SweepRequest
from app.backtests.sweep import Decider, Grid, expand
from app.core.database import utcnow
from app.core.errors import Conflict, DomainError, NotFound
from app.market import history
from app.market.calendar import new_york_date
from app.market.history import Adjusted
from app.market.provider import UnknownTicker, UnknownTickerInRequest
from app.market.service import MarketData
from app.strategies import kinds
from app.strategies import service as strategies
from app.users.models import User

logger = logging.getLogger("folio.backtests")

PROGRESS_STEPS = 50  # a sweep reports (and looks for a cancel) this many times at most


class BacktestNotFound(NotFound):
    code = "backtest_not_found"
    message = "No such backtest among yours."


class BacktestFinished(Conflict):
    code = "backtest_finished"
    message = "The backtest has already finished."


@dataclass(frozen=True)
class Plan:
    """What a request resolves to: a kind, each combination of its parameters, the terms."""

    kind: str
    grid: Grid
    ticker: str
    start: date
    end: date
    terms: Terms
    request: dict[str, Any]  # as asked, with the strategy's kind and params filled in


async def submit(
    session: AsyncSession,
    market: MarketData,
    user: User,
    request: BacktestRequest | SweepRequest,
) -> Backtest:
    """Check the request (on the bars themselves) and store it, queued; the caller commits
    and starts the work."""
    plan = await _plan(session, request)
    bars, _ = await _bars(market, session, plan)
    decider = Decider(bars)
    if all(decider.decisions(plan.kind, p) is None for p in plan.grid.combinations):
        raise results.too_few_bars(bars, plan.kind)
    sweep = isinstance(request, SweepRequest)
    backtest = Backtest(
        kind=BacktestKind.SWEEP if sweep else BacktestKind.BACKTEST,
        total=len(plan.grid.combinations),
        request=plan.request,
        ticker=plan.ticker,
        created_by=user.id,
    )
    session.add(backtest)
    await session.flush()
    return backtest


async def backtest_now(
    session: AsyncSession, market: MarketData, request: BacktestRequest
) -> tuple[dict[str, Any], Adjusted]:
    """One backtest computed here and now (not stored), and the bars it ran on."""
    plan = await _plan(session, request)
    bars, stale = await _bars(market, session, plan)
    [params] = plan.grid.combinations
    return results.backtest(bars, plan.kind, params, plan.terms) | {"stale": stale}, bars


async def _plan(session: AsyncSession, request: BacktestRequest | SweepRequest) -> Plan:
    """The request resolved (a strategy's kind and params filled in, end defaulted), checked."""
    asked = request.model_dump(mode="json")
    if isinstance(request, BacktestRequest) and request.strategy_id is not None:
        strategy = await strategies.get(session, request.strategy_id)
        asked |= {"kind": strategy.kind, "params": strategy.params}
    asked["end"] = asked["end"] or new_york_date(utcnow()).isoformat()
    return _plan_of(asked)


async def _bars(market: MarketData, session: AsyncSession, plan: Plan) -> tuple[Adjusted, bool]:
    """The range's split-adjusted bars, and whether some could not be confirmed."""
    try:
        bars, unconfirmed = await history.adjusted(
            market, session, plan.ticker, plan.start, plan.end
        )
    except UnknownTicker as exc:
        raise UnknownTickerInRequest(details=exc.details) from exc
    return bars, bool(unconfirmed)


def _plan_of(asked: dict[str, Any]) -> Plan:
    """A request as stored (kind and params filled in) as a plan: each combination checked."""
    kind = asked["kind"]
    if "grid" in asked:
        grid = expand(kind, asked["params"], asked["grid"])
    else:
        grid = Grid([kinds.validate(kind, asked["params"])], 0)
    terms = Terms(
        cash=float(asked["cash"]),
        commission=float(asked["commission"]),
        fill=Fill(asked["fill"]),
        risk_free_rate=float(asked["risk_free_rate"]),
    )
    start, end = date.fromisoformat(asked["start"]), date.fromisoformat(asked["end"])
    return Plan(kind, grid, asked["ticker"], start, end, terms, asked)


async def run(
    sessions: async_sessionmaker[AsyncSession], market: MarketData, backtest_id: int
) -> BacktestStatus | None:
    """Run a queued backtest or sweep to its end (or its cancel), storing its result; the
    status it ended in, None when it was not queued."""
    async with sessions() as session:
        backtest = await session.get(Backtest, backtest_id, with_for_update=True)
        if backtest is None or backtest.status is not BacktestStatus.QUEUED:
            return None
        backtest.status, backtest.started_at = BacktestStatus.RUNNING, utcnow()
        await session.commit()
        plan = _plan_of(backtest.request)
        kind = backtest.kind
    try:
        async with sessions() as session:
            bars, stale = await _bars(market, session, plan)
        found = await _compute(sessions, backtest_id, kind, plan, bars)
    except DomainError as exc:
        return await _finish(sessions, backtest_id, BacktestStatus.FAILED, error=exc)
    except Exception:
        logger.exception("backtest %s failed", backtest_id)
        return await _finish(sessions, backtest_id, BacktestStatus.FAILED, error=None)
    if found is None:
        return BacktestStatus.CANCELLED
    found["stale"] = stale
    return await _finish(sessions, backtest_id, BacktestStatus.SUCCEEDED, result=found, error=None)


async def _compute(
    sessions: async_sessionmaker[AsyncSession],
    backtest_id: int,
    kind: BacktestKind,
    plan: Plan,
    bars: Adjusted,
) -> dict[str, Any] | None:
    """The result, computed off the event loop; None when it was cancelled meanwhile."""
    if kind is BacktestKind.BACKTEST:
        [params] = plan.grid.combinations
        return await asyncio.to_thread(results.backtest, bars, plan.kind, params, plan.terms)
    decider = Decider(bars)
    combinations = plan.grid.combinations
    step = max(1, -(-len(combinations) // PROGRESS_STEPS))
    found: list[dict[str, Any]] = []
    skipped = plan.grid.skipped
    for first in range(0, len(combinations), step):
        batch = combinations[first : first + step]
        done, short = await asyncio.to_thread(results.sweep, decider, plan.kind, batch, plan.terms)
        found += done
        skipped += short
        if not await _progress(sessions, backtest_id, first + len(batch)):
            return None
    return {"skipped": skipped, "results": found}


async def _progress(
    sessions: async_sessionmaker[AsyncSession], backtest_id: int, done: int
) -> bool:
    """Record how far a run is; False when it was cancelled."""
    async with sessions() as session:
        changed = await session.execute(
            update(Backtest)
            .where(Backtest.id == backtest_id, Backtest.status == BacktestStatus.RUNNING)
            .values(done=done)
            .returning(Backtest.id)
        )
        await session.commit()
        return changed.first() is not None


async def _finish(
    sessions: async_sessionmaker[AsyncSession],
    backtest_id: int,
    status: BacktestStatus,
    *,
    result: dict[str, Any] | None = None,
    error: DomainError | None,
) -> BacktestStatus:
    values: dict[str, Any] = {"status": status, "finished_at": utcnow()}
    if result is not None:
        values |= {"result": json.dumps(result), "done": Backtest.total}
    elif error is not None:
        failure = {"code": error.code, "message": error.message, "details": error.details}
        values |= {"error": json.loads(json.dumps(failure, default=str))}
    else:
        values |= {"error": {"code": "internal_error", "message": "The run failed; it is logged."}}
    async with sessions() as session:
        await session.execute(
            update(Backtest)
            .where(Backtest.id == backtest_id, Backtest.status == BacktestStatus.RUNNING)
            .values(**values)
        )
        await session.commit()
    return status


async def get(session: AsyncSession, user: User, backtest_id: int) -> Backtest:
    """The backtest if `user` asked for it (or is an admin); else it does not exist."""
    found = await session.get(Backtest, backtest_id)
    if found is None or not _may_read(found, user):
        raise BacktestNotFound(details={"id": backtest_id})
    return found


def _may_read(backtest: Backtest, user: User) -> bool:
    return backtest.created_by == user.id or effective_role(user) is Role.ADMIN


def read_json(backtest: Backtest) -> bytes:
    """The backtest as the API writes it: its state, then its stored result as it is."""
    head = {
        "id": backtest.id,
        "kind": backtest.kind.value,
        "status": backtest.status.value,
        "progress": progress(backtest),
        "ticker": backtest.ticker,
        "request": backtest.request,
        "job_id": backtest.job_id,
        "error": backtest.error,
        "created_at": backtest.created_at.isoformat(),
        "started_at": _iso(backtest.started_at),
        "finished_at": _iso(backtest.finished_at),
    }
    text = json.dumps(head)
    if backtest.result is None:
        return text.encode()
    return (text[:-1] + ", " + backtest.result[1:]).encode()


def _iso(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat()


def progress(backtest: Backtest) -> float:
    if backtest.status is BacktestStatus.SUCCEEDED:
        return 1.0
    return backtest.done / backtest.total if backtest.total else 0.0


async def list_backtests(
    session: AsyncSession, user: User, limit: int, offset: int
) -> tuple[list[BacktestSummary], int]:
    """The user's backtests and sweeps, newest first."""
    mine = Backtest.created_by == user.id
    total = await session.scalar(select(func.count()).select_from(Backtest).where(mine))
    rows = await session.scalars(
        select(Backtest).where(mine).order_by(Backtest.id.desc()).limit(limit).offset(offset)
    )
    items = [
        BacktestSummary(
            id=b.id,
            kind=b.kind,
            status=b.status,
            progress=progress(b),
            ticker=b.ticker,
            request=b.request,
            created_at=b.created_at,
            finished_at=b.finished_at,
        )
        for b in rows
    ]
    return items, total or 0


async def cancel(session: AsyncSession, user: User, backtest_id: int) -> Backtest:
    """Stop a queued or running backtest: a running sweep stops at its next report."""
    backtest = await get(session, user, backtest_id)
    await session.refresh(backtest, with_for_update=True)
    if backtest.status in FINAL:
        raise BacktestFinished(details={"id": backtest_id, "status": backtest.status.value})
    backtest.status, backtest.finished_at = BacktestStatus.CANCELLED, utcnow()
    return backtest

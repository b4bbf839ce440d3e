"""Signals: stored once per strategy, ticker and date; listed; marked acted or ignored."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import table_of, upsert
from app.core.errors import Conflict, NotFound
from app.strategies.models import Signal, SignalStatus, SignalType
from app.strategies.schemas import SignalRead

_COLUMNS = (
    Signal.id,
    Signal.strategy_id,
    Signal.ticker,
    Signal.date,
    Signal.type,
    Signal.close,
    Signal.reasons,
    Signal.indicators,
    Signal.status,
)


class SignalNotFound(NotFound):
    code = "signal_not_found"
    message = "No such signal."


class IllegalSignalStatus(Conflict):
    code = "illegal_signal_status"
    message = "Only a new signal can be marked acted or ignored."


@dataclass(frozen=True)
class SignalFilter:
    ticker: str | None = None
    type: SignalType | None = None
    status: SignalStatus | None = None
    start: date | None = None
    end: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.ticker is not None:
            found.append(Signal.ticker == self.ticker.strip().upper())
        if self.type is not None:
            found.append(Signal.type == self.type)
        if self.status is not None:
            found.append(Signal.status == self.status)
        if self.start is not None:
            found.append(Signal.date >= self.start)
        if self.end is not None:
            found.append(Signal.date <= self.end)
        return found


async def store(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the signals that are not stored yet (by strategy, ticker and date); the strategy
    of each one inserted."""
    if not rows:
        return []
    statement = (
        upsert(session, table_of(Signal))
        .on_conflict_do_nothing(index_elements=["strategy_id", "ticker", "date"])
        .returning(Signal.strategy_id)
    )
    return list((await session.execute(statement, rows)).scalars())


async def list_signals(
    session: AsyncSession, strategy_id: int, f: SignalFilter, limit: int, offset: int
) -> tuple[list[SignalRead], int]:
    """The strategy's signals, newest bar first."""
    where = [Signal.strategy_id == strategy_id, *f.conditions()]
    total = await session.scalar(select(func.count()).select_from(Signal).where(*where))
    rows = await session.execute(
        select(*_COLUMNS)
        .where(*where)
        .order_by(Signal.date.desc(), Signal.ticker, Signal.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [SignalRead.model_validate(row._mapping) for row in rows], total or 0


async def set_status(session: AsyncSession, signal_id: int, status: SignalStatus) -> SignalRead:
    """Mark a new signal acted or ignored; any other change is refused."""
    current = await session.scalar(
        select(Signal.status).where(Signal.id == signal_id).with_for_update()
    )
    if current is None:
        raise SignalNotFound(details={"signal_id": signal_id})
    if current is not SignalStatus.NEW or status not in (SignalStatus.ACTED, SignalStatus.IGNORED):
        raise IllegalSignalStatus(
            f"A {current.value} signal cannot become {status.value}: only a new one can be "
            "marked acted or ignored.",
            details={"signal_id": signal_id, "from": current.value, "to": status.value},
        )
    row = (
        await session.execute(
            update(Signal).where(Signal.id == signal_id).values(status=status).returning(*_COLUMNS)
        )
    ).one()
    return SignalRead.model_validate(row._mapping)

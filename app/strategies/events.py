"""What happened to a strategy: every lifecycle step, evaluation and ticker that failed."""

from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import table_of
from app.strategies.models import EventType, Severity, StrategyEvent
from app.strategies.schemas import EventRead

_RECORD = insert(table_of(StrategyEvent))


async def record(
    session: AsyncSession,
    strategy_id: int,
    type: EventType,
    message: str,
    details: dict[str, Any] | None = None,
    severity: Severity = Severity.INFO,
) -> None:
    await session.execute(
        _RECORD,
        {
            "strategy_id": strategy_id,
            "type": type.value,
            "severity": severity.value,
            "message": message,
            "details": details or {},
        },
    )


async def list_events(
    session: AsyncSession, strategy_id: int, limit: int, offset: int
) -> tuple[list[EventRead], int]:
    """The strategy's events, newest first."""
    mine = StrategyEvent.strategy_id == strategy_id
    total = await session.scalar(select(func.count()).select_from(StrategyEvent).where(mine))
    rows = await session.execute(
        select(
            StrategyEvent.id,
            StrategyEvent.strategy_id,
            StrategyEvent.type,
            StrategyEvent.severity,
            StrategyEvent.message,
            StrategyEvent.details.label("metadata"),
            StrategyEvent.created_at,
        )
        .where(mine)
        .order_by(StrategyEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [EventRead.model_validate(row._mapping) for row in rows], total or 0

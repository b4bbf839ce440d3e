"""What happened to a strategy: every lifecycle step, evaluation and ticker that failed."""

import uuid
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import table_of
from app.portfolios.service import visible_ids
from app.strategies.models import EventType, Severity, StrategyEvent
from app.strategies.schemas import EventRead
from app.users.models import User

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
    session: AsyncSession, user: User, strategy_id: int, limit: int, offset: int
) -> tuple[list[EventRead], int]:
    """The strategy's events, newest first; a portfolio `user` may not see is shown as none."""
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
    found = [EventRead.model_validate(row._mapping) for row in rows]
    linked = {_portfolio(side) for e in found for side in _sides(e) if _portfolio(side)}
    visible = await visible_ids(session, user, {uuid.UUID(i) for i in linked if i})
    for event in found:
        for side in _sides(event):
            if _portfolio(side) and uuid.UUID(side["portfolio_id"]) not in visible:
                side["portfolio_id"] = None
    return found, total or 0


def _sides(event: EventRead) -> list[dict[str, Any]]:
    """The settings before and after that an event shows."""
    return [
        v for k, v in event.metadata.items() if k in ("before", "after") and isinstance(v, dict)
    ]


def _portfolio(side: dict[str, Any]) -> str | None:
    found = side.get("portfolio_id")
    return found if isinstance(found, str) else None

"""Recording and reading audit events. The app only ever inserts them."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.audit.schemas import AuditEventRead
from app.core.database import table_of
from app.core.logging import request_id_var
from app.users.models import User


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of obj as JSON-ready values (Decimals as strings, never floats)."""
    return {name: _jsonable(getattr(obj, name)) for name in fields}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


_RECORD = insert(table_of(AuditEvent))


async def record(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    object_type: str,
    object_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    portfolio_id: uuid.UUID | None = None,
) -> None:
    await session.execute(
        _RECORD,
        {
            "actor_id": actor_id,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "portfolio_id": portfolio_id,
            "before": before,
            "after": after,
            "request_id": request_id_var.get(),
        },
    )


@dataclass(frozen=True)
class AuditFilter:
    actor_id: uuid.UUID | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    portfolio_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Select[Any], f: AuditFilter) -> Select[Any]:
    conditions = [
        AuditEvent.actor_id == f.actor_id if f.actor_id else None,
        AuditEvent.action == f.action if f.action else None,
        AuditEvent.object_type == f.object_type if f.object_type else None,
        AuditEvent.object_id == f.object_id if f.object_id else None,
        AuditEvent.portfolio_id == f.portfolio_id if f.portfolio_id else None,
        AuditEvent.occurred_at >= f.since if f.since else None,
        AuditEvent.occurred_at < f.until if f.until else None,
    ]
    return query.where(*[c for c in conditions if c is not None])


async def list_events(
    session: AsyncSession, f: AuditFilter, limit: int, offset: int
) -> tuple[list[AuditEventRead], int]:
    """Newest first, each with its actor's email (None: the command line or the system)."""
    total = await session.scalar(_filtered(select(func.count(AuditEvent.id)), f))
    rows = await session.execute(
        _filtered(select(AuditEvent, User.email), f)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
        .offset(offset)
    )
    events = [
        AuditEventRead.model_validate(event).model_copy(update={"actor_email": email})
        for event, email in rows
    ]
    return events, total or 0

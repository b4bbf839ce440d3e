"""`Idempotency-Key` on POSTs that book money: the key's record is written in the same
transaction as what it protects, so a retry can never book twice.

A second request with the key waits briefly for the first; if the first is still in flight,
409; once it has committed, its response is replayed (same status, same body); with another
body, 422. Keys are kept for 24 hours per user.
"""

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import JSON, Integer, String, delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from app.core.database import Base, upsert, utcnow
from app.core.errors import Conflict, InvalidInput

KEY_LIFETIME = timedelta(hours=24)
IN_FLIGHT_WAIT = "2s"
REPLAYED = {"Idempotent-Replayed": "true"}

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retry-safe booking: the same key and body return the first result.",
    ),
]


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class IdempotencyKeyReused(InvalidInput):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used with a different request."


class IdempotencyKeyInFlight(Conflict):
    code = "idempotency_key_in_flight"
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


@dataclass(frozen=True)
class Replay:
    status: int
    body: Any


def request_hash(scope: str, body: Any) -> str:
    canonical = json.dumps([scope, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession, user_id: uuid.UUID, key: str, fingerprint: str
) -> Replay | None:
    """Own the key for this transaction (None), or get the first request's response to replay."""
    now = utcnow()
    values = {
        "user_id": user_id,
        "key": key,
        "request_hash": fingerprint,
        "created_at": now,
        "expires_at": now + KEY_LIFETIME,
    }
    if await _insert(session, values):
        return None
    row = await session.get(IdempotencyKey, (user_id, key), populate_existing=True)
    assert row is not None
    if row.expires_at <= now:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
            .values(values | {"response_status": None, "response_body": None})
        )
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused(details={"key": key})
    if row.response_status is None:
        raise IdempotencyKeyInFlight(details={"key": key})
    return Replay(row.response_status, row.response_body)


async def _insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = upsert(session, IdempotencyKey).values(**values).on_conflict_do_nothing()
    if not postgres:
        return bool((await session.execute(statement)).rowcount == 1)  # type: ignore[attr-defined]
    # Another transaction holding the key makes the insert wait: bound the wait, then 409.
    await session.execute(text(f"SET LOCAL lock_timeout = '{IN_FLIGHT_WAIT}'"))
    try:
        async with session.begin_nested():
            inserted = bool((await session.execute(statement)).rowcount == 1)  # type: ignore[attr-defined]
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "55P03":
            raise IdempotencyKeyInFlight(details={"key": values["key"]}) from exc
        raise
    await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    return inserted


async def complete(
    session: AsyncSession, user_id: uuid.UUID, key: str, status: int, body: Any
) -> None:
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .values(response_status=status, response_body=body)
    )


async def purge_expired(session: AsyncSession) -> int:
    """Forget keys older than their lifetime; returns how many."""
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def idempotent_post(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str | None,
    scope: str,
    body: BaseModel,
    status: int,
    run: Callable[[], Awaitable[BaseModel]],
) -> JSONResponse:
    """Run a booking once per key: replay the stored response, or run it and store it."""
    if key is None:
        return JSONResponse((await run()).model_dump(mode="json"), status_code=status)
    replay = await claim(session, user_id, key, request_hash(scope, body.model_dump(mode="json")))
    if replay is not None:
        return JSONResponse(replay.body, status_code=replay.status, headers=REPLAYED)
    result = (await run()).model_dump(mode="json")
    await complete(session, user_id, key, status, result)
    return JSONResponse(result, status_code=status)

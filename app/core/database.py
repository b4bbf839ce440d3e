"""The async engine, the per-request session (one transaction, one commit) and column types."""

import enum
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Dialect,
    Enum,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    any_,
    bindparam,
    event,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    InstrumentedAttribute,
    Mapped,
    ORMExecuteState,
    Session,
    SessionTransactionOrigin,
    mapped_column,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator, TypeEngine

from app.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Money(TypeDecorator[Decimal]):
    """Exact decimals: unconstrained NUMERIC on PostgreSQL, decimal text on SQLite.

    SQLite has no decimal type and SQLAlchemy's Numeric goes through float there.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return str(Decimal(value))
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        # PostgreSQL's drivers hand NUMERIC over as Decimal already: no call per value.
        if dialect.name == "postgresql":
            return None
        return super().result_processor(dialect, coltype)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {Decimal: Money(), datetime: UTCDateTime()}


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


def text_enum(cls: type[enum.StrEnum]) -> Enum:
    """An enumeration stored as its values' text (no database type to migrate)."""
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


def bigint_id() -> Mapped[int]:
    """A 64-bit key counting up (SQLite's integer key is that already)."""
    return mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


IN_BATCH = 5000  # values in one IN (...): statements have a limit on their parameters
COPY_BATCH = 10_000
T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Pieces of at most `size`: statements have a limit on their parameters."""
    return (items[i : i + size] for i in range(0, len(items), size))


def among(
    session: AsyncSession, column: InstrumentedAttribute[int], ids: Sequence[int]
) -> ColumnElement[bool]:
    """`column IN ids`, as one array parameter on PostgreSQL: an IN list renders a
    placeholder per value on every execution, which for hundreds costs more than the query."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Integer)))
    return column.in_(ids)


def table_of(model: type[Base]) -> Table:
    """A model's table, for Core statements where rows need no ORM identity."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


# A session's transaction that has written or locked must be kept; one that has only read
# may end at any time, and should before the caller waits (see release_reads).
_HOLDS = "folio_holds_transaction"


async def copy_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Iterable[Sequence[Any]]
) -> None:
    """Rows into a table by PostgreSQL's binary COPY, in the session's transaction: for bulk
    writes, where an INSERT's cost per row dominates. Values as the driver takes them."""
    session.info[_HOLDS] = True
    connection = await (await session.connection()).get_raw_connection()
    driver: Any = connection.driver_connection
    # The driver encodes a COPY's records without letting the event loop run: in pieces.
    pending = iter(records)
    while batch := list(islice(pending, COPY_BATCH)):
        await driver.copy_records_to_table(table.name, records=batch, columns=list(columns))


def upsert(session: AsyncSession, table: Any) -> Any:
    """An INSERT of the session's dialect, which has ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def create_engine(
    settings: Settings, url: str | None = None, *, pool: tuple[int, int] | None = None
) -> AsyncEngine:
    """The engine of DATABASE_URL (or `url`); `pool` (size, overflow) instead of the
    settings' pool."""
    url = url or settings.database_url
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
        return engine
    server_settings = {"statement_timeout": str(settings.db_statement_timeout_ms)}
    size, overflow = pool or (settings.db_pool_size, settings.db_max_overflow)
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=size,
        max_overflow=overflow,
        pool_timeout=settings.db_pool_timeout,
        connect_args={"server_settings": server_settings, "timeout": 5},
    )


def _sqlite_pragmas(dbapi_connection: Any, _: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy issue BEGIN itself so every transaction takes the write lock
    # at once (BEGIN IMMEDIATE): in the embedded mode writes are serialised.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Session, "do_orm_execute")
def _note_writes_and_locks(state: ORMExecuteState) -> None:
    locking = state.is_select and getattr(state.statement, "_for_update_arg", None) is not None
    if locking or state.is_insert or state.is_update or state.is_delete:
        state.session.info[_HOLDS] = True


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _: Any) -> None:
    session.info[_HOLDS] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_holds(session: Session) -> None:
    session.info.pop(_HOLDS, None)


async def release_reads(session: AsyncSession) -> None:
    """End the session's transaction if it has only read (no write, no lock, nothing to
    flush) and began on its own (not in the caller's `begin()` block), so that it holds no
    pooled connection (nor SQLite's write lock) while the caller waits for a vendor, another
    request's result or a lock."""
    transaction = session.get_transaction()
    if transaction is None or session.info.get(_HOLDS):
        return
    began = transaction.sync_transaction
    if began is None or began.origin is not SessionTransactionOrigin.AUTOBEGIN:
        return
    if session.new or session.dirty or session.deleted:
        return
    await session.commit()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.shared.sessions
    return sessionmaker


SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
"""For work outside the request's unit of work: a stream, or a record that must outlive
the request's rollback."""


async def get_session(sessionmaker: SessionmakerDep) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits once when the route succeeds, else rolls back."""
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if session.in_transaction():
            await session.commit()


# scope="function": the commit happens before the response is sent, so a failed
# commit is reported to the client instead of being lost after a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

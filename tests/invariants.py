"""The books' invariants, read straight from the database after a fault or a load run.

- every position equals the average-cost fold of its portfolio's booked trades;
- every portfolio's cash equals the fold of its cash transactions and booked trades;
- no trade half-written: each trade has its audit event, each cancelled one its cancel event,
  and every completed Idempotency-Key names a trade or cash row that exists;
- no Idempotency-Key stuck in flight (a key row without its response).
"""

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.audit.models import AuditEvent
from app.core.database import create_sessionmaker
from app.core.idempotency import IdempotencyKey
from app.ledger.fold import Holding, fold
from app.ledger.models import CashTransaction, Position, Trade, TradeStatus
from app.ledger.queries import booked_fills
from app.portfolios.models import Portfolio


@dataclass
class Books:
    """What was found; `problems` is empty when every invariant holds."""

    portfolios: int = 0
    positions: int = 0
    trades: int = 0
    cancelled: int = 0
    cash_transactions: int = 0
    idempotency_keys: int = 0
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        counts = (
            f"{self.portfolios} portfolios, {self.positions} positions, {self.trades} trades "
            f"({self.cancelled} cancelled), {self.cash_transactions} cash transactions, "
            f"{self.idempotency_keys} idempotency keys"
        )
        if not self.problems:
            return f"invariants hold over {counts}"
        return f"{len(self.problems)} problems over {counts}:\n  " + "\n  ".join(self.problems)


async def check_books(database_url: str) -> Books:
    engine = create_async_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            books = Books()
            await _positions(session, books)
            await _cash(session, books)
            await _half_written(session, books)
            await _in_flight(session, books)
            return books
    finally:
        await engine.dispose()


async def _positions(session: AsyncSession, books: Books) -> None:
    stored = {
        (p.portfolio_id, p.instrument_id): p for p in (await session.scalars(select(Position)))
    }
    traded = set(
        (await session.execute(select(Trade.portfolio_id, Trade.instrument_id).distinct())).all()
    )
    books.positions = len(stored)
    for portfolio_id, instrument_id in sorted(set(stored) | traded, key=str):
        # Shorts allowed here: the fold is recomputed as booked, whatever the settings are now.
        history = await booked_fills(session, portfolio_id, [instrument_id])
        expected = fold(history[instrument_id], allow_short=True).holding()
        position = stored.get((portfolio_id, instrument_id))
        actual = (
            Holding(position.quantity, position.cost_basis, position.realized_pnl)
            if position is not None
            else Holding()
        )
        if (actual.quantity, actual.cost_basis, actual.realized_pnl) != (
            expected.quantity,
            expected.cost_basis,
            expected.realized_pnl,
        ):
            books.problems.append(
                f"position {portfolio_id}/{instrument_id}: stored {actual.quantity} @ "
                f"{actual.cost_basis} (realized {actual.realized_pnl}), fold says "
                f"{expected.quantity} @ {expected.cost_basis} (realized {expected.realized_pnl})"
            )


async def _cash(session: AsyncSession, books: Books) -> None:
    flows: dict[uuid.UUID, Decimal] = {}
    for row in await session.scalars(select(CashTransaction)):
        flows[row.portfolio_id] = flows.get(row.portfolio_id, Decimal(0)) + row.type.sign * (
            row.amount
        )
        books.cash_transactions += 1
    trades = await session.scalars(select(Trade))
    for trade in trades:
        books.trades += 1
        if trade.status is TradeStatus.CANCELLED:
            books.cancelled += 1
            continue
        gross = trade.quantity * trade.price
        effect = -gross - trade.fees if trade.side.value == "buy" else gross - trade.fees
        flows[trade.portfolio_id] = flows.get(trade.portfolio_id, Decimal(0)) + effect
    for portfolio in await session.scalars(select(Portfolio)):
        books.portfolios += 1
        expected = flows.get(portfolio.id, Decimal(0))
        if portfolio.cash_balance != expected:
            books.problems.append(
                f"cash of {portfolio.slug}: stored {portfolio.cash_balance}, fold says {expected}"
            )


async def _half_written(session: AsyncSession, books: Books) -> None:
    events = (
        await session.execute(
            select(
                AuditEvent.action, AuditEvent.object_id, AuditEvent.portfolio_id, AuditEvent.after
            ).where(AuditEvent.action.in_(("trade.book", "trade.cancel", "trades.import")))
        )
    ).all()
    booked = {e.object_id for e in events if e.action == "trade.book"}
    cancelled = {e.object_id for e in events if e.action == "trade.cancel"}
    imports = [
        (e.portfolio_id, int(e.after["first_trade_id"]), int(e.after["last_trade_id"]))
        for e in events
        if e.action == "trades.import" and e.after and e.after.get("first_trade_id") is not None
    ]
    rows = await session.execute(select(Trade.id, Trade.portfolio_id, Trade.status))
    for trade_id, portfolio_id, status in rows:
        imported = any(p == portfolio_id and lo <= trade_id <= hi for p, lo, hi in imports)
        if str(trade_id) not in booked and not imported:
            books.problems.append(f"trade {trade_id} has no audit event of its booking")
        if status is TradeStatus.CANCELLED and str(trade_id) not in cancelled:
            books.problems.append(f"cancelled trade {trade_id} has no audit event of its cancel")
    keys = await session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.response_status.is_not(None))
    )
    for key in keys:
        body = key.response_body if isinstance(key.response_body, dict) else {}
        row_id = body.get("id")
        if key.response_status != 201 or row_id is None:
            continue
        table = CashTransaction if "type" in body else Trade
        if await session.get(table, row_id) is None:
            books.problems.append(
                f"Idempotency-Key {key.key} answered 201 with {table.__tablename__} {row_id}, "
                "which does not exist"
            )


async def _in_flight(session: AsyncSession, books: Books) -> None:
    books.idempotency_keys = (
        await session.scalar(select(func.count()).select_from(IdempotencyKey))
    ) or 0
    stuck = await session.scalars(
        select(IdempotencyKey.key).where(IdempotencyKey.response_status.is_(None))
    )
    for key in stuck:
        books.problems.append(f"Idempotency-Key {key} is stuck in flight")

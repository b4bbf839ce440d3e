"""ledger: open lots, each portfolio's cost method and last date of its books

Revision ID: 7c2d9e4b1a05
Revises: 16fcd70bb57d
Create Date: 2026-12-04 00:30:00.000000

The lots of existing books are made by folding each position's booked trades (average
cost, the only method there was); trades, cash and positions are left as they are.
"""

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

import app.core.database
from alembic import op
from app.ledger.fold import fold
from app.ledger.rules import Fill

revision: str = '7c2d9e4b1a05'
down_revision: str | None = '16fcd70bb57d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('portfolios') as batch:
        batch.add_column(sa.Column('cost_method', sa.String(length=16), server_default='average', nullable=False))
        batch.add_column(sa.Column('books_through', sa.Date(), nullable=True))
    op.execute(
        "UPDATE portfolios SET books_through = (SELECT max(day) FROM ("
        " SELECT trade_date AS day FROM trades WHERE trades.portfolio_id = portfolios.id"
        " UNION ALL"
        " SELECT date FROM cash_transactions WHERE cash_transactions.portfolio_id = portfolios.id"
        ") AS moves)"
    )
    lots = op.create_table('lots',
    sa.Column('trade_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('portfolio_id', sa.Uuid(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('open_date', sa.Date(), nullable=False),
    sa.Column('quantity', app.core.database.Money(), nullable=False),
    sa.Column('cost', app.core.database.Money(), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_lots_instrument_id_instruments')),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_lots_portfolio_id_portfolios'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['trade_id'], ['trades.id'], name=op.f('fk_lots_trade_id_trades'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('trade_id', name=op.f('pk_lots'))
    )
    op.create_index('ix_lots_position', 'lots', ['portfolio_id', 'instrument_id', 'open_date', 'trade_id'], unique=False)
    _open_lots_of_existing_books(lots)


def _open_lots_of_existing_books(lots: sa.Table) -> None:
    money = app.core.database.Money()
    trades = sa.table(
        'trades',
        sa.column('id', sa.BigInteger()),
        sa.column('portfolio_id', sa.Uuid()),
        sa.column('instrument_id', sa.Integer()),
        sa.column('side', sa.String()),
        sa.column('quantity', money),
        sa.column('price', money),
        sa.column('fees', money),
        sa.column('trade_date', sa.Date()),
        sa.column('status', sa.String()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(trades.c.portfolio_id, trades.c.instrument_id, trades.c.side, trades.c.quantity,
                  trades.c.price, trades.c.fees, trades.c.trade_date, trades.c.id)
        .where(trades.c.status == 'booked')
        .order_by(trades.c.portfolio_id, trades.c.instrument_id, trades.c.trade_date, trades.c.id)
    )
    fills: dict[tuple[object, int], list[Fill]] = defaultdict(list)
    for portfolio_id, instrument_id, side, quantity, price, fees, day, trade_id in rows:
        fills[(portfolio_id, instrument_id)].append(Fill(side, quantity, price, fees, day, trade_id))
    opened = [
        {'trade_id': lot.trade_id, 'portfolio_id': portfolio_id, 'instrument_id': instrument_id,
         'open_date': lot.open_date, 'quantity': lot.quantity, 'cost': lot.cost}
        for (portfolio_id, instrument_id), history in fills.items()
        for lot in fold(history, allow_short=True).lots
    ]
    for start in range(0, len(opened), BATCH):
        bind.execute(sa.insert(lots), opened[start:start + BATCH])


def downgrade() -> None:
    op.drop_index('ix_lots_position', table_name='lots')
    op.drop_table('lots')
    with op.batch_alter_table('portfolios') as batch:
        batch.drop_column('books_through')
        batch.drop_column('cost_method')

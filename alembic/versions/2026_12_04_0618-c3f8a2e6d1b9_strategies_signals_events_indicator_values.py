"""the trading desk: strategies, their signals and events, and the latest indicator values of
each instrument for screens

Revision ID: c3f8a2e6d1b9
Revises: b7e3c1d9f2a4
Create Date: 2026-12-04 06:18:34.470322
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.database
from alembic import op

revision: str = 'c3f8a2e6d1b9'
down_revision: str | None = 'b7e3c1d9f2a4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('indicator_values',
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=48), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('value', app.core.database.Money(), nullable=True),
    sa.Column('computed_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_indicator_values_instrument_id_instruments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('instrument_id', 'name', name=op.f('pk_indicator_values'))
    )
    op.create_table('strategies',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('tickers', sa.JSON(), nullable=False),
    sa.Column('portfolio_id', sa.Uuid(), nullable=True),
    sa.Column('sizing', sa.JSON(), nullable=False),
    sa.Column('stop_loss_pct', app.core.database.Money(), nullable=True),
    sa.Column('take_profit_pct', app.core.database.Money(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('auto_trade', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_strategies_created_by_users')),
    sa.ForeignKeyConstraint(['portfolio_id'], ['portfolios.id'], name=op.f('fk_strategies_portfolio_id_portfolios'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategies')),
    sa.UniqueConstraint('name', name=op.f('uq_strategies_name'))
    )
    op.create_index(op.f('ix_strategies_portfolio_id'), 'strategies', ['portfolio_id'], unique=False)
    op.create_table('signals',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('strategy_id', sa.Integer(), nullable=False),
    sa.Column('ticker', sa.String(length=16), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('type', sa.Enum('BUY', 'SELL', 'HOLD', name='signaltype', native_enum=False, length=16), nullable=False),
    sa.Column('close', app.core.database.Money(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('indicators', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('new', 'acted', 'ignored', 'expired', name='signalstatus', native_enum=False, length=16), nullable=False),
    sa.Column('created_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['strategy_id'], ['strategies.id'], name=op.f('fk_signals_strategy_id_strategies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals'))
    )
    op.create_index('ix_signals_strategy_date', 'signals', ['strategy_id', 'date'], unique=False)
    op.create_index('uq_signals_bar', 'signals', ['strategy_id', 'ticker', 'date'], unique=True)
    op.create_table('strategy_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('strategy_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.Enum('created', 'updated', 'activated', 'deactivated', 'evaluated', 'signal', 'order', 'error', name='eventtype', native_enum=False, length=16), nullable=False),
    sa.Column('severity', sa.Enum('info', 'warning', 'error', name='severity', native_enum=False, length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('created_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['strategy_id'], ['strategies.id'], name=op.f('fk_strategy_events_strategy_id_strategies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strategy_events'))
    )
    op.create_index('ix_strategy_events_strategy', 'strategy_events', ['strategy_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_strategy_events_strategy', table_name='strategy_events')
    op.drop_table('strategy_events')
    op.drop_index('uq_signals_bar', table_name='signals')
    op.drop_index('ix_signals_strategy_date', table_name='signals')
    op.drop_table('signals')
    op.drop_index(op.f('ix_strategies_portfolio_id'), table_name='strategies')
    op.drop_table('strategies')
    op.drop_table('indicator_values')

"""corporate actions of instruments, the dividends portfolios are entitled to, and the
portfolio setting that books them on their pay date

Revision ID: b7e3c1d9f2a4
Revises: a4d1f0c8e2b7
Create Date: 2026-12-04 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.database
from alembic import op

revision: str = 'b7e3c1d9f2a4'
down_revision: str | None = 'a4d1f0c8e2b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('instruments') as batch:
        batch.add_column(sa.Column('actions_through', sa.Date(), nullable=True))
    with op.batch_alter_table('portfolios') as batch:
        batch.add_column(
            sa.Column(
                'auto_book_dividends', sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    op.create_table(
        'corporate_actions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column(
            'type',
            sa.Enum('split', 'cash_dividend', name='actiontype', native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column('ex_date', sa.Date(), nullable=False),
        sa.Column('pay_date', sa.Date(), nullable=True),
        sa.Column('split_to', sa.Integer(), nullable=False),
        sa.Column('split_from', sa.Integer(), nullable=False),
        sa.Column('cash_amount', app.core.database.Money(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('fetched_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['instrument_id'],
            ['instruments.id'],
            name=op.f('fk_corporate_actions_instrument_id_instruments'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_corporate_actions')),
    )
    op.create_index(
        'uq_corporate_actions', 'corporate_actions', ['instrument_id', 'type', 'ex_date'],
        unique=True,
    )
    op.create_index(
        'ix_corporate_actions_fetched_at', 'corporate_actions', ['fetched_at'], unique=False
    )
    op.create_table(
        'dividends',
        sa.Column(
            'id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
            nullable=False,
        ),
        sa.Column('portfolio_id', sa.Uuid(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('ex_date', sa.Date(), nullable=False),
        sa.Column('pay_date', sa.Date(), nullable=False),
        sa.Column('quantity', app.core.database.Money(), nullable=False),
        sa.Column('cash_amount', app.core.database.Money(), nullable=False),
        sa.Column('amount', app.core.database.Money(), nullable=False),
        sa.Column(
            'status',
            sa.Enum(
                'proposed', 'booked', 'dismissed', 'matched',
                name='dividendstatus', native_enum=False, length=16,
            ),
            nullable=False,
        ),
        sa.Column(
            'cash_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
            nullable=True,
        ),
        sa.Column('created_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.Uuid(), nullable=True),
        sa.Column('decided_at', app.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['action_id'], ['corporate_actions.id'],
            name=op.f('fk_dividends_action_id_corporate_actions'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['cash_transaction_id'], ['cash_transactions.id'],
            name=op.f('fk_dividends_cash_transaction_id_cash_transactions'),
        ),
        sa.ForeignKeyConstraint(
            ['decided_by'], ['users.id'], name=op.f('fk_dividends_decided_by_users'),
        ),
        sa.ForeignKeyConstraint(
            ['instrument_id'], ['instruments.id'],
            name=op.f('fk_dividends_instrument_id_instruments'),
        ),
        sa.ForeignKeyConstraint(
            ['portfolio_id'], ['portfolios.id'],
            name=op.f('fk_dividends_portfolio_id_portfolios'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dividends')),
    )
    op.create_index('uq_dividends_action', 'dividends', ['portfolio_id', 'action_id'], unique=True)
    op.create_index(op.f('ix_dividends_action_id'), 'dividends', ['action_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_dividends_action_id'), table_name='dividends')
    op.drop_index('uq_dividends_action', table_name='dividends')
    op.drop_table('dividends')
    op.drop_index('ix_corporate_actions_fetched_at', table_name='corporate_actions')
    op.drop_index('uq_corporate_actions', table_name='corporate_actions')
    op.drop_table('corporate_actions')
    with op.batch_alter_table('portfolios') as batch:
        batch.drop_column('auto_book_dividends')
    with op.batch_alter_table('instruments') as batch:
        batch.drop_column('actions_through')

"""sessions: each user's session version, signed-out tokens kept in the database, and
usernames unique whatever their case

Revision ID: a4d1f0c8e2b7
Revises: 7c2d9e4b1a05
Create Date: 2026-12-04 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.core.database
from alembic import op

revision: str = 'a4d1f0c8e2b7'
down_revision: str | None = '7c2d9e4b1a05'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOTIFY_FUNCTION = """
CREATE FUNCTION notify_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('folio_sessions', (to_jsonb(COALESCE(NEW, OLD)) ->> TG_ARGV[0]));
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(
            sa.Column('session_version', sa.Integer(), server_default='0', nullable=False)
        )
    op.create_table(
        'revoked_tokens',
        sa.Column('jti', sa.String(length=64), nullable=False),
        sa.Column('expires_at', app.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('jti', name=op.f('pk_revoked_tokens')),
    )
    op.create_index(
        op.f('ix_revoked_tokens_expires_at'), 'revoked_tokens', ['expires_at'], unique=False
    )
    op.create_index(
        'uq_users_username_lower', 'users', [sa.text('lower(username)')], unique=True
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Every process that keeps signed-in users forgets them at once (app/auth/sessions.py).
        op.execute(NOTIFY_FUNCTION)
        op.execute(
            "CREATE TRIGGER users_notify_sessions AFTER UPDATE OR DELETE ON users"
            " FOR EACH ROW EXECUTE FUNCTION notify_sessions('id')"
        )
        op.execute(
            "CREATE TRIGGER revoked_tokens_notify_sessions AFTER INSERT ON revoked_tokens"
            " FOR EACH ROW EXECUTE FUNCTION notify_sessions('jti')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER revoked_tokens_notify_sessions ON revoked_tokens")
        op.execute("DROP TRIGGER users_notify_sessions ON users")
        op.execute("DROP FUNCTION notify_sessions()")
    op.drop_index('uq_users_username_lower', table_name='users')
    op.drop_index(op.f('ix_revoked_tokens_expires_at'), table_name='revoked_tokens')
    op.drop_table('revoked_tokens')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('session_version')

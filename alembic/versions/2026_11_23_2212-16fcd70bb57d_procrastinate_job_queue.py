"""procrastinate job queue

The tables, types and functions of procrastinate 3.10.0 (the locked version), frozen beside
this file so that the migration never changes. PostgreSQL only: the embedded SQLite mode
has no job queue.

Revision ID: 16fcd70bb57d
Revises: 3a1e1c89d4b4
Create Date: 2026-11-23 22:12:13.596402
"""

import inspect
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.util import await_only

from alembic import op

revision: str = '16fcd70bb57d'
down_revision: str | None = '3a1e1c89d4b4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = Path(__file__).with_name("procrastinate_3.10.0_schema.sql")

DROP = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.proname LIKE 'procrastinate\\_%' AND p.pronamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('DROP FUNCTION %s', f);
    END LOOP;
END;
$$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status;
"""


def _execute_script(sql: str) -> None:
    """Several statements at once, through the driver (SQLAlchemy prepares one at a time)."""
    result = op.get_bind().connection.driver_connection.execute(sql)
    if inspect.isawaitable(result):  # asyncpg
        await_only(result)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _execute_script(SCHEMA.read_text())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _execute_script(DROP)

"""Without a worker (SQLite): the same refresh, run in the API process after each close."""

from datetime import UTC, datetime
from pathlib import Path

from procrastinate.schema import SchemaManager
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.embedded import next_refresh, refresh_held
from app.jobs.tasks import Resources
from tests.jobs.conftest import RecordingMarket
from tests.jobs.test_tasks import hold

MIGRATIONS = Path(__file__).resolve().parents[2] / "alembic" / "versions"


def test_the_next_refresh_is_the_next_weekday_at_half_past_nine_utc() -> None:
    friday_night = datetime(2026, 11, 27, 22, 0, tzinfo=UTC)
    assert next_refresh(friday_night) == datetime(2026, 11, 30, 21, 30, tzinfo=UTC)
    before = datetime(2026, 11, 24, 21, 29, tzinfo=UTC)
    assert next_refresh(before) == datetime(2026, 11, 24, 21, 30, tzinfo=UTC)


async def test_refresh_held_refreshes_each_ticker_and_says_which_failed(
    session: AsyncSession, resources: Resources, market: RecordingMarket
) -> None:
    names = await hold(session, {"UP": "3", "DOWN": "4"})
    market.down.add(names["DOWN"])
    outcome = await refresh_held(resources)
    assert outcome[names["UP"]] == 1
    assert outcome[names["DOWN"]] == "market_data_unavailable"


def test_the_migration_installs_the_locked_procrastinate_schema() -> None:
    """A procrastinate upgrade needs a migration of its own: this says when."""
    frozen = (MIGRATIONS / "procrastinate_3.10.0_schema.sql").read_text()
    assert frozen == SchemaManager.get_schema()

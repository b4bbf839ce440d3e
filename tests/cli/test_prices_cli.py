"""`folio prices backfill` stores bars ticker by ticker; `folio worker` needs PostgreSQL."""

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.cli.main import cli
from app.market.models import Instrument, PriceBar
from tests.cli.conftest import in_session


async def _stored(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Instrument.ticker, func.count())
        .join(PriceBar, PriceBar.instrument_id == Instrument.id)
        .group_by(Instrument.ticker)
    )
    return dict(rows.tuples().all())


def test_backfill_stores_each_ticker_and_reports_the_unknown(
    runner: CliRunner, sqlite_url: str
) -> None:
    args = ["prices", "backfill", "AAPL", "ZZZZ", "msft", "--start", "2024-01-01"]
    result = runner.invoke(cli, [*args, "--end", "2024-01-31"])
    assert result.exit_code == 1, result.output
    assert "AAPL: 23 bars from simulated" in result.output
    assert "MSFT: 23 bars from simulated" in result.output
    assert "ZZZZ: The ticker is not known" in result.output
    assert in_session(sqlite_url, _stored) == {"AAPL": 23, "MSFT": 23}


def test_backfill_refuses_a_backwards_range(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["prices", "backfill", "AAPL", "--start", "2024-02-01", "--end", "2024-01-01"]
    )
    assert result.exit_code == 2 and "--start is after --end" in result.output


def test_refresh_held_with_nothing_held(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["prices", "refresh-held"])
    assert result.exit_code == 0 and "no ticker is held" in result.output


def test_the_worker_explains_that_it_needs_postgresql(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["worker"])
    assert result.exit_code == 2 and "needs PostgreSQL" in result.output

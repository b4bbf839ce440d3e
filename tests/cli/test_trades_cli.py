"""`folio trades import|export` on the embedded SQLite database."""

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.auth.permissions import Role
from app.cli.main import cli
from app.ledger.models import Position
from app.portfolios.models import Portfolio
from tests.cli.conftest import in_session
from tests.factories import make_portfolio, make_team, make_user

CSV = (
    "Date,Symbol,Action,Qty,Price,Commission,Memo\n"
    "2025-01-06,AAPL,buy,10,100.25,1,first\n"
    "2025-01-07,MSFT,b,3,400.123,0,\n"
    '2025-01-08,AAPL,sell,4,110,0.5,"trim, partly"\n'
)


async def _desk(session: AsyncSession) -> dict[str, Any]:
    team = await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    viewer = await make_user(session, Role.VIEWER, team=team)
    fund = await make_portfolio(session, pm, team=team, cash="100000")
    twin = await make_portfolio(session, pm, team=team, cash="100000")
    return {"pm": pm.email, "viewer": viewer.email, "fund": fund.slug, "twin": twin.slug}


def _positions(url: str, slug: str) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
    async def read(session: AsyncSession) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
        portfolio_id = await session.scalar(select(Portfolio.id).where(Portfolio.slug == slug))
        rows = await session.scalars(select(Position).where(Position.portfolio_id == portfolio_id))
        return {p.instrument_id: (p.quantity, p.cost_basis, p.realized_pnl) for p in rows}

    return in_session(url, read)


def test_import_then_export_round_trips_through_a_file(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    desk = in_session(sqlite_url, _desk)
    source = tmp_path / "in.csv"
    source.write_text(CSV)

    imported = runner.invoke(
        cli, ["trades", "import", desk["fund"], str(source), "--as", desk["pm"]]
    )
    assert imported.exit_code == 0, imported.output
    assert f"booked 3 trades into {desk['fund']}" in imported.stdout

    printed = runner.invoke(cli, ["trades", "export", desk["fund"]])
    assert printed.exit_code == 0, printed.output
    assert printed.stdout.splitlines() == [
        "trade_date,ticker,side,quantity,price,fees,notes,external_id",
        "2025-01-06,AAPL,buy,10,100.25,1,first,",
        "2025-01-07,MSFT,buy,3,400.123,0,,",
        '2025-01-08,AAPL,sell,4,110,0.5,"trim, partly",',
    ]

    exported = tmp_path / "out.csv"
    written = runner.invoke(cli, ["trades", "export", desk["fund"], str(exported)])
    assert written.exit_code == 0, written.output
    assert exported.read_text() == printed.stdout
    again = runner.invoke(
        cli, ["trades", "import", desk["twin"], str(exported), "--as", desk["pm"]]
    )
    assert again.exit_code == 0, again.output
    assert _positions(sqlite_url, desk["twin"]) == _positions(sqlite_url, desk["fund"])


def test_a_bad_file_books_nothing_and_names_its_rows(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    desk = in_session(sqlite_url, _desk)
    source = tmp_path / "bad.csv"
    source.write_text(CSV + "2025-01-09,NOPE42,buy,1,1\n2025-01-09,AAPL,hold,1,1\n")

    result = runner.invoke(cli, ["trades", "import", desk["fund"], str(source), "--as", desk["pm"]])
    assert result.exit_code == 1
    assert "nothing was booked" in result.output
    assert "row 5: ticker: NOPE42 is not known to the provider" in result.output
    assert "row 6: side: Input should be 'buy' or 'sell'" in result.output
    assert _positions(sqlite_url, desk["fund"]) == {}


def test_import_is_refused_to_whoever_may_not_book(
    runner: CliRunner, sqlite_url: str, tmp_path: Path
) -> None:
    desk = in_session(sqlite_url, _desk)
    source = tmp_path / "in.csv"
    source.write_text(CSV)
    args = ["trades", "import", desk["fund"], str(source), "--as"]

    viewer = runner.invoke(cli, [*args, desk["viewer"]])
    assert viewer.exit_code == 1 and "does not allow" in viewer.output
    nobody = runner.invoke(cli, [*args, "nobody@desk.example"])
    assert nobody.exit_code == 1 and "No such user" in nobody.output
    missing = runner.invoke(cli, ["trades", "export", "no-such-fund"])
    assert missing.exit_code == 1 and "No such portfolio" in missing.output

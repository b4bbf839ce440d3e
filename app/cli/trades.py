"""`folio trades`: import and export a portfolio's trades as CSV, with a progress bar."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from app.auth.permissions import Permission, PermissionDenied
from app.cli.services import portfolio_by_slug, run_with_services, user_by_email
from app.portfolios.dependencies import portfolio_access
from app.state import AppState
from app.trades import csv_io
from app.trades.schemas import ImportResult

app = typer.Typer(help="Trades as CSV.", no_args_is_help=True)


class ProgressBars:
    """A csv_io progress callback drawing one bar per stage."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total or None)
        self.progress.update(self.tasks[stage], completed=done, total=total or None)


@contextmanager
def progress_bars() -> Iterator[ProgressBars]:
    columns = (TextColumn("{task.description:<10}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        yield ProgressBars(progress)


@app.command("import")
def import_trades(
    slug: str = typer.Argument(..., metavar="PORTFOLIO_SLUG"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    email: str = typer.Option(
        ..., "--as", help="Email of the user who books them (may book in the portfolio)."
    ),
) -> None:
    """Book every trade of a CSV file into a portfolio, or none if any row is wrong."""

    async def work(s: AppState, bars: ProgressBars) -> ImportResult:
        async with s.sessions() as session, session.begin():
            user = await user_by_email(session, email)
            if not user.is_active or user.approved_at is None:
                raise PermissionDenied("The account is inactive or not approved.")
            load = portfolio_access(Permission.TRADES_CREATE)
            portfolio = await load(slug, user, session)
            with file.open("rb") as source:
                return await csv_io.import_csv(session, s.market, user, portfolio.id, source, bars)

    with progress_bars() as bars:
        result = run_with_services(lambda s: work(s, bars))
    ids = f" (ids {result.first_trade_id}..{result.last_trade_id})" if result.booked else ""
    typer.echo(f"booked {result.booked} trades into {slug}{ids}")


@app.command("export")
def export_trades(
    slug: str = typer.Argument(..., metavar="PORTFOLIO_SLUG"),
    file: Path | None = typer.Argument(None, dir_okay=False, help="Default: standard output."),
) -> None:
    """Write a portfolio's booked trades as CSV, oldest first (the columns import reads)."""

    async def work(s: AppState, out: TextIO, bars: ProgressBars) -> None:
        async with s.sessions() as session:
            portfolio = await portfolio_by_slug(session, slug)
            async for text in csv_io.export_csv(session, portfolio.id, bars):
                out.write(text)

    target = file.open("w", encoding="utf-8", newline="") if file else nullcontext(sys.stdout)
    with target as out, progress_bars() as bars:
        run_with_services(lambda s: work(s, out, bars))
    if file:
        typer.echo(f"exported {slug} to {file}", err=True)

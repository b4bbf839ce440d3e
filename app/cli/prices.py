"""`folio prices`: fill the stored daily bars of tickers, and refresh what the desk holds."""

import asyncio
from datetime import date, datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app.cli.common import load_settings
from app.cli.services import run_with_services
from app.core.database import utcnow
from app.jobs.embedded import refresh_held
from app.jobs.queue import open_queue
from app.jobs.tasks import Resources, backfill_prices
from app.market.calendar import new_york_date
from app.market.provider import MarketDataUnauthorized, MarketDataUnavailable, UnknownTicker
from app.market.service import normalise
from app.state import AppState

app = typer.Typer(help="Stored market prices.", no_args_is_help=True)

DEFAULT_YEARS = 10
CLI_QUEUE_CONNECTIONS = 1


def _default_range(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or new_york_date(utcnow())
    start = start or end.replace(year=end.year - DEFAULT_YEARS)
    if start > end:
        typer.secho("--start is after --end.", fg="red", err=True)
        raise typer.Exit(2)
    return start, end


@app.command()
def backfill(
    tickers: list[str] = typer.Argument(..., metavar="TICKER...", help="E.g. AAPL MSFT BRK.B"),
    start: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help=f"First date (default: {DEFAULT_YEARS} years ago)."
    ),
    end: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Last date (default: today in New York)."
    ),
    in_background: bool = typer.Option(
        False, "--in-background", help="Leave the work to `folio worker` (PostgreSQL)."
    ),
) -> None:
    """Store the daily bars of each ticker from START to END; dates already stored are not
    fetched again. A ticker that fails is reported and the others go on."""
    first, last = _default_range(start and start.date(), end and end.date())
    if in_background:
        _defer_backfills(tickers, first, last)
        return
    failed = run_with_services(lambda s: _backfill(s, tickers, first, last))
    if failed:
        raise typer.Exit(1)


async def _backfill(s: AppState, tickers: list[str], start: date, end: date) -> list[str]:
    failed: list[str] = []
    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        bar = progress.add_task("", total=len(tickers))
        for ticker in tickers:
            progress.update(bar, description=ticker.upper())
            try:
                result = await s.market.daily_bars(ticker, start, end)
            except (UnknownTicker, MarketDataUnavailable, MarketDataUnauthorized) as exc:
                progress.console.print(f"[red]{ticker}: {exc.message}[/red]")
                failed.append(ticker)
            else:
                stale = " (vendor failed; stored bars only)" if result.stale else ""
                progress.console.print(
                    f"{result.ticker}: {len(result.items)} bars from {result.provider}{stale}"
                )
            progress.advance(bar)
    return failed


def _defer_backfills(tickers: list[str], start: date, end: date) -> None:
    settings = load_settings()
    if settings.is_sqlite:
        typer.secho("--in-background needs PostgreSQL; run it without.", fg="red", err=True)
        raise typer.Exit(2)
    try:
        clean = [normalise(t) for t in tickers]
    except UnknownTicker as exc:
        typer.secho(f"{exc.message} {exc.details}", fg="red", err=True)
        raise typer.Exit(1) from exc

    async def defer() -> list[int]:
        async with open_queue(settings, CLI_QUEUE_CONNECTIONS, "folio-cli"):
            span = {"start": start.isoformat(), "end": end.isoformat()}
            return [await backfill_prices.defer_async(ticker=t, **span) for t in clean]

    for ticker, job_id in zip(clean, asyncio.run(defer()), strict=True):
        typer.echo(f"{ticker}: job {job_id} (see `GET /jobs/{job_id}` as an admin)")


@app.command("refresh-held")
def refresh_held_now() -> None:
    """Fetch the last days of bars of every held ticker again, now (the worker does this after
    each market close; in the embedded mode the API process does)."""
    outcome = run_with_services(lambda s: refresh_held(Resources(s.sessions, s.market)))
    for ticker, result in outcome.items():
        typer.echo(f"{ticker}: {result if isinstance(result, str) else f'{result} bars'}")
    if not outcome:
        typer.echo("no ticker is held")
    if any(isinstance(result, str) for result in outcome.values()):
        raise typer.Exit(1)

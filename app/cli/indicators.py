"""`folio indicators`: a ticker's technical indicators as a table, or every row as CSV."""

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from app.cli.services import run_with_services
from app.indicators.schemas import columns
from app.indicators.service import IndicatorTable, indicator_table
from app.indicators.spec import DEFAULT_NAMES
from app.state import AppState

WHOLE_NUMBERS = ("volume", "obv")  # columns shown without decimals


def indicators(
    ticker: str = typer.Argument(..., metavar="TICKER"),
    names: str | None = typer.Option(
        None, help=f"Comma-separated (default: {','.join(DEFAULT_NAMES)})."
    ),
    start: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Default: a year before end."
    ),
    end: datetime | None = typer.Option(
        None, formats=["%Y-%m-%d"], help="Default: today in New York."
    ),
    csv_file: Path | None = typer.Option(
        None, "--csv", dir_okay=False, help="Write every row of the range to this CSV file."
    ),
    last: int = typer.Option(4, min=1, help="How many of the latest days the table shows."),
) -> None:
    """Print a ticker's indicators on its latest days (one column a day), or write them all
    as CSV; computed on split-adjusted bars over the ticker's whole history."""
    first, final = (d.date() if d else None for d in (start, end))

    async def work(s: AppState) -> IndicatorTable:
        async with s.sessions() as session, session.begin():
            return await indicator_table(s.market, session, ticker, names, first, final)

    table = run_with_services(work)
    found = columns(table)
    if csv_file is not None:
        write_csv(found, csv_file)
        typer.echo(f"{len(table.days)} rows written to {csv_file}")
        return
    if not len(table.days):
        typer.echo(f"{table.ticker}: no bars in the range.")
        return
    Console().print(latest_table(table, found, last))


def write_csv(found: dict[str, list[Any]], path: Path) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(found)
        writer.writerows(zip(*found.values(), strict=True))


def latest_table(table: IndicatorTable, found: dict[str, list[Any]], last: int) -> Table:
    days = found.pop("date")[-last:]
    title = f"{table.ticker}, split-adjusted ({table.provider})"
    view = Table(title=title, title_justify="left")
    view.add_column("", no_wrap=True, min_width=max(map(len, found), default=0))
    for day in days:
        view.add_column(day, justify="right")
    for name, values in found.items():
        view.add_row(name, *(_number(name, v) for v in values[-last:]))
    notes = [f"history from {table.history_start or '-'}"]
    if table.stale:
        notes.append("stale: some dates could not be confirmed with the vendor")
    view.caption = "; ".join(notes)
    return view


def _number(name: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if name.startswith(WHOLE_NUMBERS) else f"{value:,.4f}"

"""`folio strategies`: evaluate a strategy over a date range, with a progress bar."""

from datetime import datetime

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from app.cli.services import run_with_services
from app.state import AppState
from app.strategies import evaluation, service
from app.strategies.schemas import EvaluationRead

app = typer.Typer(help="Trading strategies.", no_args_is_help=True)


@app.command("evaluate")
def evaluate(
    name: str = typer.Argument(..., metavar="NAME", help="The strategy's name."),
    start: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="The first date."),
    end: datetime = typer.Option(..., formats=["%Y-%m-%d"], help="The last date."),
) -> None:
    """Store the BUY and SELL signals of every bar from start to end of each ticker of the
    strategy (those stored before are kept), and print how many are new."""
    columns = (TextColumn("tickers"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=Console(stderr=True)) as progress:
        bar = progress.add_task("tickers", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total)

        async def work(s: AppState) -> EvaluationRead:
            async with s.sessions() as session, session.begin():
                strategy = await service.get_by_name(session, name)
                return await evaluation.evaluate(
                    session, s.market, strategy, start.date(), end.date(), advance
                )

        result = run_with_services(work)
    typer.echo(f"{name}: new signals {result.signals}, tickers evaluated {result.tickers}")
    for error in result.errors:
        typer.secho(f"  {error.ticker} not evaluated: {error.message}", fg="yellow", err=True)

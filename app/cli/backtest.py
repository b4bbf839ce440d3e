"""`folio backtest`: one strategy kind on one ticker's bars, its statistics as a table and,
on request, its equity against buy-and-hold as a chart."""

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from app.backtests.fills import Fill
from app.backtests.schemas import BacktestRequest
from app.backtests.service import backtest_now
from app.cli.services import run_with_services
from app.market.history import Adjusted
from app.state import AppState
from app.strategies.kinds import KINDS

# Statistics shown as percentages; the others as plain numbers (or dates, money).
PERCENTS = frozenset(
    {
        "total_return",
        "buy_hold_return",
        "annualized_return",
        "volatility",
        "max_drawdown",
        "win_rate",
        "best_trade",
        "worst_trade",
        "avg_trade",
        "exposure",
    }
)


def backtest(
    kind: str = typer.Argument(..., metavar="KIND", help=f"One of {', '.join(KINDS)}."),
    ticker: str = typer.Option(..., help="The ticker whose split-adjusted bars it runs on."),
    start: datetime = typer.Option(..., formats=["%Y-%m-%d"]),
    end: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Default: today."),
    param: list[str] = typer.Option(
        [], "--param", help="A parameter as NAME=VALUE, e.g. --param fast=10 --param slow=30."
    ),
    cash: str = typer.Option("100000", help="Starting cash."),
    commission: str = typer.Option("0", help="A rate on each side: 0.001 is 0.1%."),
    fill: Fill = typer.Option(Fill.NEXT_OPEN, help="At the next bar's open, or the same close."),
    chart: Path | None = typer.Option(
        None, dir_okay=False, help="Draw equity against buy-and-hold, trades marked, as PNG."
    ),
) -> None:
    """Backtest a strategy kind on one ticker and print its statistics."""
    if chart is not None and not chart.parent.is_dir():
        raise typer.BadParameter(f"{chart.parent} is not a directory", param_hint="--chart")
    try:
        request = BacktestRequest(
            kind=kind,  # type: ignore[arg-type]  # checked by the model
            params=_params(param),
            ticker=ticker,
            start=start.date(),
            end=end.date() if end else None,
            cash=Decimal(cash),
            commission=Decimal(commission),
            fill=fill,
        )
    except (ValidationError, ArithmeticError) as exc:
        typer.secho(f"Invalid backtest: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc

    async def work(s: AppState) -> tuple[dict[str, Any], Adjusted]:
        async with s.sessions() as session, session.begin():
            return await backtest_now(session, s.market, request)

    result, bars = run_with_services(work)
    Console().print(stats_table(request, result))
    if chart is not None:
        try:
            draw(result, bars, float(request.cash), chart)
        except OSError as exc:
            typer.secho(f"The chart could not be written: {exc}", fg="red", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"chart written to {chart}")


def _params(given: list[str]) -> dict[str, int | float]:
    params: dict[str, int | float] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r}: write NAME=VALUE", param_hint="--param")
        try:
            params[name.strip()] = int(value) if value.strip().isdigit() else float(value)
        except ValueError as exc:
            raise typer.BadParameter(f"{item!r}: not a number", param_hint="--param") from exc
    return params


def stats_table(request: BacktestRequest, result: dict[str, Any]) -> Table:
    title = f"{request.kind} {request.params} on {request.ticker}, {request.fill.value} fills"
    view = Table(title=title, title_justify="left")
    view.add_column("statistic")
    view.add_column("value", justify="right")
    for name, value in result["stats"].items():
        view.add_row(name, _shown(name, value))
    notes = [f"{len(result['trades'])} round trips"]
    if result["open_trade"]:
        notes.append(f"open trade since {result['open_trade']['entry_date']}")
    if result["stale"]:
        notes.append("stale: some bars could not be confirmed with the vendor")
    view.caption = "; ".join(notes)
    return view


def _shown(name: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if name in PERCENTS:
        return f"{value * 100:,.2f}%"
    return f"{value:,.2f}" if isinstance(value, float) else str(value)


def draw(result: dict[str, Any], bars: Adjusted, cash: float, path: Path) -> None:
    """Equity and buy-and-hold (the cash in the ticker at the first close), entries and exits
    marked on the equity line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = bars.days.astype("datetime64[D]").tolist()
    equity = np.array([float(e["equity"]) for e in result["equity"]])
    at = {day.isoformat(): i for i, day in enumerate(days)}
    figure, axes = plt.subplots(figsize=(10, 5))
    axes.plot(days, equity, label="strategy", color="tab:blue")
    axes.plot(days, cash * bars.close / bars.close[0], label="buy and hold", color="tab:gray")
    for key, marker, color, label in (
        ("entry_date", "^", "tab:green", "entries"),
        ("exit_date", "v", "tab:red", "exits"),
    ):
        trades = result["trades"] + ([result["open_trade"]] if key == "entry_date" else [])
        marks = [at[t[key]] for t in trades if t]
        axes.scatter(
            [days[i] for i in marks], equity[marks], marker=marker, color=color, label=label
        )
    axes.set_ylabel("equity")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)

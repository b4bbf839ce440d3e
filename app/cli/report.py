"""`folio report`: a portfolio's valuation and performance as tables, and a chart."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from app.analytics.performance import Query, performance
from app.analytics.schemas import FiguresRead, Interval, PerformanceRead, ValuationRead
from app.analytics.valuation import valuation
from app.cli.common import load_settings
from app.cli.services import run_with_services
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioNotFound
from app.state import AppState

FIGURES = (
    ("TWR", "twr", True),
    ("TWR, annualised", "twr_annualized", True),
    ("XIRR", "xirr", True),
    ("Max drawdown", "max_drawdown", True),
    ("Volatility", "volatility", True),
    ("Sharpe", "sharpe", False),
)


def report(
    slug: str = typer.Argument(..., metavar="PORTFOLIO_SLUG"),
    start: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Default: inception"),
    end: datetime | None = typer.Option(None, formats=["%Y-%m-%d"], help="Default: today"),
    benchmark: str | None = typer.Option(None, help="Default: the portfolio's benchmark"),
    chart: Path | None = typer.Option(None, dir_okay=False, help="Draw NAV and returns (PNG)"),
) -> None:
    """Print a portfolio's valuation and performance; optionally chart them."""
    risk_free = load_settings().risk_free_rate
    first, last = (d.date() if d else None for d in (start, end))

    async def work(s: AppState) -> tuple[ValuationRead, PerformanceRead]:
        async with s.sessions() as session, session.begin():
            portfolio = await session.scalar(select(Portfolio).where(Portfolio.slug == slug))
            if portfolio is None:
                raise PortfolioNotFound(details={"slug": slug})
            query = Query(first, last, benchmark, Interval.DAY, risk_free)
            result = await performance(session, s.market, portfolio, query)
            return await valuation(session, s.market, portfolio, last), result

    value, result = run_with_services(work)
    console = Console()
    console.print(valuation_table(slug, value))
    console.print(performance_table(result))
    if chart is not None:
        draw(result, chart)
        console.print(f"chart written to {chart}")


def valuation_table(slug: str, value: ValuationRead) -> Table:
    table = Table(title=f"{slug} on {value.as_of}", title_justify="left")
    for name in ("ticker", "quantity", "last price", "market value", "unrealized P&L", "weight"):
        table.add_column(name, justify="left" if name == "ticker" else "right")
    for p in value.positions:
        table.add_row(
            p.ticker,
            _plain(p.quantity),
            _plain(p.last_price),
            _plain(p.market_value),
            _plain(p.unrealized_pnl),
            _percent(p.weight),
        )
    table.add_section()
    table.add_row("cash", "", "", _plain(value.cash), "", "")
    table.add_row("NAV", "", "", _plain(value.nav), _plain(value.unrealized_pnl), "")
    if value.missing_prices:
        table.caption = f"no price for {', '.join(value.missing_prices)}: not valued"
    return table


def performance_table(result: PerformanceRead) -> Table:
    bench = result.benchmark
    table = Table(title=f"Performance {result.start} to {result.end}", title_justify="left")
    for name in ("", "portfolio", bench.ticker):
        table.add_column(name, justify="right" if name else "left")
    for label, field, percent in FIGURES:
        show = _percent if percent else _ratio
        table.add_row(label, show(getattr(result, field)), show(getattr(bench, field)))
    table.add_row("Drawdown peak", _day(result.max_drawdown_peak), _day(bench.max_drawdown_peak))
    table.add_row(
        "Drawdown trough", _day(result.max_drawdown_trough), _day(bench.max_drawdown_trough)
    )
    table.caption = "; ".join(_notes(result, bench))
    return table


def _notes(result: PerformanceRead, bench: FiguresRead) -> list[str]:
    notes = [note for note in (result.reason, result.xirr_reason) if note]
    if bench.reason:
        notes.append(f"benchmark: {bench.reason}")
    notes += [f"{m.ticker}: no close on {m.days} day(s)" for m in result.missing_prices]
    return notes


def draw(result: PerformanceRead, path: Path) -> None:
    """NAV above, cumulative returns of the portfolio and its benchmark below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [p.date for p in result.series]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(10, 6))
    top.plot(days, [_float(p.nav) for p in result.series], color="tab:blue")
    top.set_ylabel("NAV")
    bottom.plot(days, [_float(p.twr_cumulative) for p in result.series], label="portfolio (TWR)")
    bottom.plot(
        days,
        [_float(p.benchmark_cumulative) for p in result.series],
        label=result.benchmark.ticker,
    )
    bottom.set_ylabel("cumulative return")
    bottom.legend()
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def _float(value: Decimal | None) -> float:
    return float(value) if value is not None else float("nan")


def _plain(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,f}"


def _ratio(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _percent(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:,.2f}%"


def _day(value: date | None) -> str:
    return "-" if value is None else value.isoformat()

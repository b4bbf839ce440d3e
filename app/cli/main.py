"""The `folio` command line."""

import typer

from app.cli import (
    backtest,
    db,
    demo,
    indicators,
    openapi,
    orders,
    prices,
    report,
    serve,
    strategies,
    trades,
    users,
    worker,
)

cli = typer.Typer(help="Folio: an investment desk's back end.", no_args_is_help=True)
cli.command()(serve.serve)
cli.command()(openapi.openapi)
cli.command()(worker.worker)
cli.command()(report.report)
cli.command()(indicators.indicators)
cli.command()(backtest.backtest)
cli.add_typer(db.app, name="db")
cli.add_typer(users.app, name="user")
cli.add_typer(trades.app, name="trades")
cli.add_typer(demo.app, name="demo")
cli.add_typer(prices.app, name="prices")
cli.add_typer(strategies.app, name="strategies")
cli.add_typer(orders.app, name="orders")

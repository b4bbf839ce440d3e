"""The `folio` command line."""

import typer

from app.cli import db, demo, serve, trades, users

cli = typer.Typer(help="Folio: an investment desk's back end.", no_args_is_help=True)
cli.command()(serve.serve)
cli.add_typer(db.app, name="db")
cli.add_typer(users.app, name="user")
cli.add_typer(trades.app, name="trades")
cli.add_typer(demo.app, name="demo")

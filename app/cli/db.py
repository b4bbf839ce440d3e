"""`folio db`: apply, undo and inspect migrations."""

import argparse
from pathlib import Path

import typer
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from alembic import command
from app.cli.common import load_settings
from app.core.config import Environment

app = typer.Typer(help="Database migrations.", no_args_is_help=True)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    """Alembic's configuration for URL, passed as `-x url=` the way its command line would."""
    config = Config(
        str(PROJECT_ROOT / "alembic.ini"), cmd_opts=argparse.Namespace(x=[f"url={url}"])
    )
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return config


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    command.upgrade(alembic_config(load_settings().database_url), revision)


@app.command()
def downgrade(revision: str = typer.Argument("-1")) -> None:
    """Undo migrations down to REVISION (default: one step; `base` undoes all)."""
    command.downgrade(alembic_config(load_settings().database_url), revision)


@app.command()
def current() -> None:
    """Print the revision the database is at."""
    typer.echo(_current_revision(load_settings().database_url) or "none (empty database)")


@app.command()
def status() -> None:
    """Say whether the database is at the latest migration."""
    url = load_settings().database_url
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    now = _current_revision(url)
    if now == head:
        typer.echo(f"up to date at {head}")
    else:
        typer.echo(f"behind: database at {now or 'none'}, latest is {head}; run `folio db upgrade`")
        raise typer.Exit(1)


@app.command()
def reset(yes: bool = typer.Option(False, "--yes", help="Confirm in production.")) -> None:
    """Drop every table and migrate again from scratch."""
    settings = load_settings()
    if settings.environment is Environment.PRODUCTION and not yes:
        typer.secho("Refusing to reset a production database without --yes.", fg="red", err=True)
        raise typer.Exit(1)
    config = alembic_config(settings.database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    typer.echo("database reset to the latest migration")


def _current_revision(async_url: str) -> str | None:
    sync_url = async_url.replace("+asyncpg", "+psycopg").replace("+aiosqlite", "")
    engine = create_engine(sync_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()

"""What every command shares: settings that explain themselves, and a database session."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings, get_settings
from app.core.database import create_engine, create_sessionmaker
from app.core.errors import DomainError

T = TypeVar("T")


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]).upper()
            where = f"{name}: " if name else ""
            typer.secho(f"Folio cannot start: {where}{error['msg']}", fg="red", err=True)
        raise typer.Exit(2) from exc


@asynccontextmanager
async def database_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """One session whose work is committed when the block succeeds."""
    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()


def run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run work in a committed session; domain errors become a clear message and exit 1."""
    settings = load_settings()

    async def main() -> T:
        async with database_session(settings) as session:
            return await work(session)

    try:
        return asyncio.run(main())
    except DomainError as exc:
        typer.secho(f"{exc.message} {exc.details or ''}".strip(), fg="red", err=True)
        raise typer.Exit(1) from exc

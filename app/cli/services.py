"""What the data commands share: sessions and market data, built and closed around one run."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.cli.common import load_settings
from app.core.cache import create_cache
from app.core.config import Settings
from app.core.database import create_engine, create_sessionmaker
from app.core.errors import DomainError
from app.market.service import MarketData, create_market_data
from app.users.models import User
from app.users.service import UserNotFound

T = TypeVar("T")


@dataclass(frozen=True)
class Services:
    sessions: async_sessionmaker[AsyncSession]
    market: MarketData


@asynccontextmanager
async def services(settings: Settings) -> AsyncIterator[Services]:
    engine = create_engine(settings)
    cache = create_cache(settings.redis_url, settings.redis_max_connections)
    sessions = create_sessionmaker(engine)
    market = create_market_data(settings, cache, sessions)
    try:
        yield Services(sessions, market)
    finally:
        await market.close()
        await cache.close()
        await engine.dispose()


def run_with_services(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run work; a domain error becomes its message (and any row errors) and exit 1."""
    settings = load_settings()

    async def main() -> T:
        async with services(settings) as s:
            return await work(s)

    try:
        return asyncio.run(main())
    except DomainError as exc:
        typer.secho(exc.message, fg="red", err=True)
        for line in _detail_lines(exc.details):
            typer.secho(f"  {line}", fg="red", err=True)
        raise typer.Exit(1) from exc


def _detail_lines(details: dict[str, object]) -> list[str]:
    rows = details.get("rows")
    if not isinstance(rows, list):
        return [f"{key}: {value}" for key, value in details.items()]
    lines = [f"row {r['row']}: {'; '.join(r['errors'])}" for r in rows]
    if details.get("total", 0) != len(rows):
        lines.append(f"({details['total']} rows with errors in all)")
    return lines


async def user_by_email(session: AsyncSession, email: str) -> User:
    user = await session.scalar(select(User).where(func.lower(User.email) == email.lower()))
    if user is None:
        raise UserNotFound(details={"email": email})
    return user

"""What the data commands share: the app's state, opened and closed around one run."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cli.common import load_settings
from app.core.errors import DomainError
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioNotFound
from app.state import AppState, open_state
from app.users.models import User
from app.users.service import UserNotFound

T = TypeVar("T")


def run_with_services(work: Callable[[AppState], Awaitable[T]]) -> T:
    """Run work with what the app opens (the same composition root); a domain error becomes
    its message (and any row errors) and exit 1."""
    settings = load_settings()

    async def main() -> T:
        async with open_state(settings) as state:
            return await work(state)

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


async def portfolio_by_slug(session: AsyncSession, slug: str) -> Portfolio:
    portfolio = await session.scalar(select(Portfolio).where(Portfolio.slug == slug))
    if portfolio is None:
        raise PortfolioNotFound(details={"slug": slug})
    return portfolio

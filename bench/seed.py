"""Accounts, tokens and portfolios written straight into a benchmark's database."""

import asyncio
import uuid
from collections.abc import Sequence
from decimal import Decimal

from app.auth.permissions import Role
from app.auth.strategy import RevocableJWTStrategy
from app.core.config import Settings
from app.core.database import create_engine, create_sessionmaker
from app.portfolios.models import Portfolio
from app.users.models import User
from app.users.service import create_user

PASSWORD = "benchmark passphrase 1"
SECRET_KEY = uuid.uuid4().hex * 2


def settings(database_url: str, redis_url: str | None = None) -> Settings:
    """Folio's settings for work done in the bench's own process (simulated market data)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=SECRET_KEY,
        market_data_provider="simulated",
    )


async def _account(database_url: str, role: Role) -> User:
    engine = create_engine(settings(database_url))
    try:
        async with create_sessionmaker(engine)() as session:
            n = uuid.uuid4().hex[:8]
            user = await create_user(
                session,
                email=f"bench{n}@desk.example",
                password=PASSWORD,
                username=f"b{n}",
                role=role,
            )
            await session.commit()
            return user
    finally:
        await engine.dispose()


def account(database_url: str, role: Role = Role.PORTFOLIO_MANAGER) -> User:
    return asyncio.run(_account(database_url, role))


def bearer(user: User) -> dict[str, str]:
    strategy = RevocableJWTStrategy(SECRET_KEY, 3600)
    return {"Authorization": f"Bearer {asyncio.run(strategy.write_token(user))}"}


async def _portfolios(database_url: str, pm: User, count: int, cash: Decimal) -> list[str]:
    engine = create_engine(settings(database_url))
    try:
        async with create_sessionmaker(engine)() as session:
            slugs = [f"bench-{uuid.uuid4().hex[:10]}" for _ in range(count)]
            session.add_all(
                Portfolio(slug=s, name=s, pm_id=pm.id, cash_balance=cash) for s in slugs
            )
            await session.commit()
            return slugs
    finally:
        await engine.dispose()


def portfolios(
    database_url: str, pm: User, count: int, cash: Decimal = Decimal("1e12")
) -> Sequence[str]:
    return asyncio.run(_portfolios(database_url, pm, count, cash))

"""A PM's portfolio on an app that commits for real, and a client for it."""

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.auth.permissions import Role
from tests.factories import bearer, make_portfolio, make_user


async def setup_desk(app: FastAPI, cash: str = "0") -> tuple[AsyncClient, str, dict[str, str]]:
    async with app.state.shared.sessions() as session:
        pm = await make_user(session, Role.PORTFOLIO_MANAGER)
        portfolio = await make_portfolio(session, pm, cash=cash)
        slug = portfolio.slug
    client = AsyncClient(transport=ASGITransport(app=app), base_url="https://test")
    return client, slug, await bearer(app, pm)

"""A ticker's sector: the vendor's, or set by an admin or PM (audited); unclassified without."""

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.permissions import Role
from app.market.models import Instrument
from tests.factories import bearer, make_user


async def test_a_pm_sets_a_sector_and_clearing_it_brings_back_the_vendor_s(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    pm = await bearer(app, await make_user(session, Role.PORTFOLIO_MANAGER))
    analyst = await bearer(app, await make_user(session, Role.ANALYST))
    url = "/market/tickers/aapl"
    assert (await client.get(url, headers=analyst)).json()["sector"] == "Information Technology"
    refused = await client.patch(url, json={"sector": "Energy"}, headers=analyst)
    assert refused.status_code == 403
    changed = await client.patch(url, json={"sector": "  Energy "}, headers=pm)
    assert changed.status_code == 200, changed.text
    assert changed.json()["sector"] == "Energy"
    assert (await client.get(url, headers=analyst)).json()["sector"] == "Energy"
    [audited] = await session.scalars(
        select(AuditEvent).where(AuditEvent.action == "instrument.classify")
    )
    assert (audited.object_id, audited.before, audited.after) == (
        "AAPL",
        {"sector": "Information Technology"},
        {"sector": "Energy"},
    )
    cleared = await client.patch(url, json={"sector": None}, headers=pm)
    assert cleared.json()["sector"] == "Information Technology"
    stored = await session.scalar(select(Instrument.sector).where(Instrument.ticker == "AAPL"))
    assert stored == "Information Technology"  # what the policy's sector rule counts
    blank = await client.patch(url, json={"sector": ""}, headers=pm)
    assert blank.status_code == 422


async def test_an_unknown_or_unclassified_ticker(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    pm = await bearer(app, await make_user(session, Role.PORTFOLIO_MANAGER))
    unknown = await client.patch("/market/tickers/NOPE1", json={"sector": "X"}, headers=pm)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_ticker"
    etf = await client.get("/market/tickers/SPY", headers=pm)
    assert etf.json()["sector"] == "unclassified"

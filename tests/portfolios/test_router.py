"""Portfolios over HTTP: creation, visibility, settings, members, archive."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.factories import bearer, make_portfolio, make_team, make_user


async def test_a_pm_creates_a_portfolio_and_becomes_its_pm(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    team = await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    response = await client.post(
        "/portfolios",
        json={"name": "Growth Fund", "benchmark": "qqq"},
        headers=await bearer(app, pm),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["slug"] == "growth-fund" and body["pm_id"] == str(pm.id)
    assert body["team_id"] == str(team.id) and body["benchmark"] == "QQQ"
    assert body["cash_balance"] == "0" and body["allow_short"] is False
    again = await client.post(
        "/portfolios", json={"name": "Growth Fund"}, headers=await bearer(app, pm)
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "portfolio_exists"


async def test_slug_can_be_given_and_must_be_url_safe(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.PORTFOLIO_MANAGER))
    made = await client.post(
        "/portfolios", json={"name": "Fonds Été", "slug": "ete"}, headers=headers
    )
    assert made.json()["slug"] == "ete"
    derived = await client.post("/portfolios", json={"name": "Fonds Hiver"}, headers=headers)
    assert derived.json()["slug"] == "fonds-hiver"
    bad = await client.post("/portfolios", json={"name": "X", "slug": "Not Safe/"}, headers=headers)
    assert bad.status_code == 422


async def test_lists_show_only_what_the_caller_may_see(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    team, other_team = await make_team(session), await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    mine = await make_portfolio(session, pm, team=team)
    theirs = await make_portfolio(
        session, await make_user(session, Role.PORTFOLIO_MANAGER), team=other_team
    )
    analyst = await make_user(session, Role.ANALYST, team=team)
    listed = (await client.get("/portfolios", headers=await bearer(app, analyst))).json()
    assert [p["slug"] for p in listed["items"]] == [mine.slug] and listed["total"] == 1
    hidden = await client.get(f"/portfolios/{theirs.slug}", headers=await bearer(app, analyst))
    assert hidden.status_code == 404
    missing = await client.get("/portfolios/no-such-fund", headers=await bearer(app, analyst))
    assert missing.json() == hidden.json() | {
        "error": hidden.json()["error"] | {"details": {"slug": "no-such-fund"}}
    }
    admin = await make_user(session, Role.ADMIN)
    everything = (await client.get("/portfolios", headers=await bearer(app, admin))).json()
    assert {mine.slug, theirs.slug} <= {p["slug"] for p in everything["items"]}


async def test_members_see_the_portfolio_and_can_be_removed(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm)
    analyst = await make_user(session, Role.ANALYST)
    pm_headers, analyst_headers = await bearer(app, pm), await bearer(app, analyst)
    url = f"/portfolios/{portfolio.slug}"
    assert (await client.get(url, headers=analyst_headers)).status_code == 404
    added = await client.post(
        f"{url}/members", json={"user_id": str(analyst.id)}, headers=pm_headers
    )
    assert added.status_code == 204
    assert (await client.get(url, headers=analyst_headers)).status_code == 200
    members = (await client.get(f"{url}/members", headers=analyst_headers)).json()
    assert [m["username"] for m in members] == [analyst.username]
    removed = await client.delete(f"{url}/members/{analyst.id}", headers=pm_headers)
    assert removed.status_code == 204
    assert (await client.get(url, headers=analyst_headers)).status_code == 404


@pytest.mark.parametrize("field", ["pm_id", "team_id"])
async def test_a_pm_cannot_hand_the_portfolio_over_through_the_body(
    client: AsyncClient, app: FastAPI, session: AsyncSession, field: str
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm)
    other = await make_user(session, Role.PORTFOLIO_MANAGER)
    team = await make_team(session)
    value = str(other.id) if field == "pm_id" else str(team.id)
    response = await client.patch(
        f"/portfolios/{portfolio.slug}", json={field: value}, headers=await bearer(app, pm)
    )
    assert response.status_code == 403
    admin = await bearer(app, await make_user(session, Role.ADMIN))
    assert (
        await client.patch(f"/portfolios/{portfolio.slug}", json={field: value}, headers=admin)
    ).json()[field] == value


async def test_settings_change_and_are_audited(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm)
    response = await client.patch(
        f"/portfolios/{portfolio.slug}",
        json={"allow_short": True, "benchmark": "iwm", "description": "small caps"},
        headers=await bearer(app, pm),
    )
    assert response.json()["allow_short"] is True and response.json()["benchmark"] == "IWM"
    admin = await bearer(app, await make_user(session, Role.ADMIN))
    audit = (await client.get(f"/admin/audit?portfolio_id={portfolio.id}", headers=admin)).json()
    [event] = audit["items"]
    assert event["action"] == "portfolio.update"
    assert event["before"]["allow_short"] is False and event["after"]["allow_short"] is True


async def test_an_analyst_cannot_create_portfolios(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    analyst = await make_user(session, Role.ANALYST)
    response = await client.post(
        "/portfolios", json={"name": "Mine"}, headers=await bearer(app, analyst)
    )
    assert response.status_code == 403


async def test_a_pm_creates_portfolios_only_in_their_own_team(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    ours, theirs = await make_team(session), await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=ours)
    headers = await bearer(app, pm)
    elsewhere = await client.post(
        "/portfolios", json={"name": "Planted", "team_id": str(theirs.id)}, headers=headers
    )
    assert elsewhere.status_code == 403, elsewhere.text
    assert elsewhere.json()["error"]["code"] == "permission_denied"
    own = await client.post(
        "/portfolios", json={"name": "Home", "team_id": str(ours.id)}, headers=headers
    )
    assert own.status_code == 201 and own.json()["team_id"] == str(ours.id)


async def test_a_team_that_does_not_exist_is_not_found(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    headers = await bearer(app, admin)
    missing = {"name": "Nowhere", "team_id": "00000000-0000-4000-8000-000000000000"}
    created = await client.post("/portfolios", json=missing, headers=headers)
    assert created.status_code == 404 and created.json()["error"]["code"] == "team_not_found"
    portfolio = await make_portfolio(session, admin)
    moved = await client.patch(
        f"/portfolios/{portfolio.slug}", json={"team_id": missing["team_id"]}, headers=headers
    )
    assert moved.status_code == 404 and moved.json()["error"]["code"] == "team_not_found"

"""The OWASP API Security Top 10 items that apply to Folio, as tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.factories import bearer, make_portfolio, make_team, make_user
from tests.trades.helpers import book, deposit


@pytest.fixture
async def two_desks(app: FastAPI, session: AsyncSession) -> dict[str, object]:
    """Two teams, each with a PM, an analyst and a portfolio with one trade."""
    desks: dict[str, object] = {}
    for name in ("ours", "theirs"):
        team = await make_team(session)
        pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
        analyst = await make_user(session, Role.ANALYST, team=team)
        portfolio = await make_portfolio(session, pm, team=team, cash="100000")
        desks[name] = {"pm": pm, "analyst": analyst, "portfolio": portfolio}
    return desks


# API1: broken object-level authorisation
async def test_another_teams_objects_are_not_found(
    client: AsyncClient,
    app: FastAPI,
    two_desks: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    theirs = two_desks["theirs"]
    their_slug = theirs["portfolio"].slug
    their_headers = await bearer(app, theirs["pm"])
    trade_id = (await book(client, their_slug, their_headers)).json()["id"]
    ours = await bearer(app, two_desks["ours"]["pm"])
    for method, path in (
        ("GET", f"/portfolios/{their_slug}"),
        ("GET", f"/portfolios/{their_slug}/members"),
        ("GET", f"/portfolios/{their_slug}/trades"),
        ("GET", f"/portfolios/{their_slug}/trades/{trade_id}"),
        ("GET", f"/portfolios/{their_slug}/positions"),
        ("GET", f"/portfolios/{their_slug}/cash"),
        ("GET", f"/portfolios/{their_slug}/trades/export"),
        ("POST", f"/portfolios/{their_slug}/trades/{trade_id}/cancel"),
        ("PATCH", f"/portfolios/{their_slug}"),
        ("DELETE", f"/portfolios/{their_slug}"),
    ):
        response = await client.request(method, path, json={"reason": "x"}, headers=ours)
        assert response.status_code == 404, (method, path, response.status_code)
        assert response.json()["error"]["code"] == "portfolio_not_found"


async def test_a_trade_id_from_another_portfolio_is_not_found_in_ours(
    client: AsyncClient,
    app: FastAPI,
    two_desks: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    theirs, ours = two_desks["theirs"], two_desks["ours"]
    trade_id = (
        await book(client, theirs["portfolio"].slug, await bearer(app, theirs["pm"]))
    ).json()["id"]
    ours_headers = await bearer(app, ours["pm"])
    response = await client.get(
        f"/portfolios/{ours['portfolio'].slug}/trades/{trade_id}", headers=ours_headers
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "trade_not_found"


# API3: broken object property level authorisation (mass assignment)
async def test_body_fields_cannot_grant_or_hand_over(
    client: AsyncClient,
    app: FastAPI,
    two_desks: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    ours = two_desks["ours"]
    analyst = await bearer(app, ours["analyst"])
    for field, value in (("role", "admin"), ("is_superuser", True), ("team_id", None)):
        response = await client.patch("/users/me", json={field: value}, headers=analyst)
        assert response.status_code == 422, field
    pm = await bearer(app, ours["pm"])
    slug = ours["portfolio"].slug
    handover = await client.patch(
        f"/portfolios/{slug}", json={"pm_id": str(ours["analyst"].id)}, headers=pm
    )
    assert handover.status_code == 403
    created = await client.post(
        "/portfolios", json={"name": "Sneaky", "pm_id": str(ours["analyst"].id)}, headers=pm
    )
    assert created.status_code == 403
    forged = await book(client, slug, pm, created_by=str(ours["analyst"].id))
    assert forged.status_code == 422


# API4: unrestricted resource consumption
async def test_page_sizes_are_capped(
    client: AsyncClient,
    app: FastAPI,
    two_desks: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    headers = await bearer(app, two_desks["ours"]["pm"])
    slug = two_desks["ours"]["portfolio"].slug
    for path in ("/portfolios", f"/portfolios/{slug}/trades", f"/portfolios/{slug}/cash"):
        response = await client.get(f"{path}?limit=100000", headers=headers)
        assert response.status_code == 422, path
        assert (await client.get(f"{path}?limit=-1", headers=headers)).status_code == 422


async def test_bodies_over_the_limit_are_refused_before_parsing(
    client: AsyncClient,
    app: FastAPI,
    two_desks: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    headers = await bearer(app, two_desks["ours"]["pm"])
    slug = two_desks["ours"]["portfolio"].slug
    huge = '{"notes": "' + "x" * 1_100_000 + '"}'
    response = await client.post(
        f"/portfolios/{slug}/trades",
        content=huge,
        headers=headers | {"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


# API5: broken function-level authorisation (admin routes as every role)
@pytest.mark.parametrize("role", [Role.PORTFOLIO_MANAGER, Role.ANALYST, Role.VIEWER])
async def test_admin_routes_refuse_every_other_role(
    client: AsyncClient, app: FastAPI, session: AsyncSession, role: Role
) -> None:
    user = await make_user(session, role)
    headers = await bearer(app, user)
    for method, path in (
        ("GET", "/admin/users"),
        ("POST", f"/admin/users/{user.id}/approve"),
        ("PATCH", f"/admin/users/{user.id}"),
        ("GET", "/admin/teams"),
        ("POST", "/admin/teams"),
        ("GET", "/admin/audit"),
    ):
        response = await client.request(method, path, json={"role": "admin"}, headers=headers)
        assert response.status_code == 403, (role, method, path)
    assert (await client.get("/users/me", headers=headers)).json()["role"] == role.value


# API8: security misconfiguration
async def test_responses_carry_security_headers_and_no_server_details(
    client: AsyncClient,
) -> None:
    response = await client.get("/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    error = await client.get("/nowhere")
    assert "traceback" not in error.text.lower()


async def test_cors_answers_only_configured_origins(client: AsyncClient, app: FastAPI) -> None:
    allowed = app.state.shared.settings.cors_origins[0]
    preflight = {"Access-Control-Request-Method": "POST"}
    good = await client.options("/health", headers=preflight | {"Origin": allowed})
    assert good.headers["access-control-allow-origin"] == allowed
    assert good.headers["access-control-allow-credentials"] == "true"
    evil = await client.options("/health", headers=preflight | {"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
    simple = await client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_cookies_are_httponly_secure_and_samesite(
    client: AsyncClient, session: AsyncSession
) -> None:
    from tests.factories import PASSWORD

    user = await make_user(session)
    login = await client.post(
        "/auth/cookie/login", data={"username": user.email, "password": PASSWORD}
    )
    cookies = {c.split("=")[0]: c for c in login.headers.get_list("set-cookie")}
    assert {"folio_auth", "csrftoken"} <= cookies.keys()
    for name, cookie in cookies.items():
        assert "Secure" in cookie and "SameSite=lax" in cookie, name
    assert "HttpOnly" in cookies["folio_auth"]


async def test_deposits_need_a_member_who_may_book(
    client: AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    two_desks: dict[str, dict],  # type: ignore[type-arg]
) -> None:
    slug = two_desks["ours"]["portfolio"].slug
    viewer = await make_user(session, Role.VIEWER, team=None)
    outsider = await bearer(app, viewer)
    assert (await deposit(client, slug, outsider, "1")).status_code == 404


def test_folio_serve_sends_no_server_banner(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'folio.db'}",
        "LOG_DIR": str(tmp_path / "logs"),
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "folio"), "serve", "--port", str(port)],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        response = _get_when_up(f"http://127.0.0.1:{port}/health")
        assert response.status_code == 200
        assert "server" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    finally:
        server.terminate()
        server.wait(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_when_up(url: str) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, timeout=1)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)

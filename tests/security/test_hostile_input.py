"""JSON that Python reads but JSON cannot carry back: a clear 4xx, never a 500."""

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.factories import PASSWORD, bearer, make_portfolio, make_user

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "email", ["NaN", "Infinity", "-Infinity", "1e999999", '"\\ud800@desk.example"']
)
async def test_registration_with_values_json_cannot_echo_is_refused(
    client: AsyncClient, email: str
) -> None:
    body = f'{{"email": {email}, "password": "{PASSWORD}", "username": "mallory"}}'
    response = await client.post("/auth/register", content=body, headers=JSON)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("quantity", ["NaN", "Infinity", "1e999999"])
async def test_a_trade_with_a_number_json_cannot_carry_is_refused(
    client: AsyncClient, app: FastAPI, session: AsyncSession, quantity: str
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, cash="1000")
    body = f'{{"ticker": "AAPL", "side": "buy", "quantity": {quantity}, "price": 1}}'
    response = await client.post(
        f"/portfolios/{portfolio.slug}/trades", content=body, headers=JSON | await bearer(app, pm)
    )
    assert response.status_code == 422, response.text


async def test_a_lone_surrogate_in_free_text_is_refused_and_stores_nothing(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    user = await make_user(session)
    headers = JSON | await bearer(app, user)
    response = await client.patch("/users/me", content='{"full_name": "A\\udc80"}', headers=headers)
    assert response.status_code == 422, response.text
    me = await client.get("/users/me", headers=headers)
    assert me.json()["full_name"] == user.full_name


async def test_an_error_that_names_a_lone_surrogate_is_still_json(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    """The strategy's parameter check names the unknown key in its message."""
    headers = JSON | await bearer(app, await make_user(session, Role.ANALYST))
    body = '{"name": "s", "kind": "sma_cross", "params": {"fast": 1, "slow": 2, "\\ud800": 1}, '
    body += '"tickers": ["AAPL"]}'
    response = await client.post("/strategies", content=body, headers=headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_strategy_params" and "\\ud800" in error["message"]


async def test_an_audit_time_without_a_timezone_is_refused(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.ADMIN))
    naive = await client.get("/admin/audit?since=2026-01-01T00:00:00", headers=headers)
    assert naive.status_code == 422, naive.text
    aware = await client.get("/admin/audit?since=2026-01-01T00:00:00Z", headers=headers)
    assert aware.status_code == 200, aware.text


async def test_answers_are_not_kept_by_caches(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    me = await client.get("/users/me", headers=await bearer(app, await make_user(session)))
    assert me.status_code == 200 and me.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/auth/import", "/portfolios/x/cash/import", "/x/import"])
async def test_only_the_trade_import_takes_large_bodies(client: AsyncClient, path: str) -> None:
    body = b"x" * (2 * 1024 * 1024)
    response = await client.post(path, content=body, headers=JSON)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    "field,value",
    [
        ("quantity", "1_000"),
        ("quantity", "١٠"),  # noqa: RUF001 (Arabic-Indic digits, on purpose)
        ("price", " 10"),
        ("price", True),
        ("trade_date", 1735776000),
        ("trade_date", "1735776000"),
        ("trade_date", "2025-1-2"),
    ],
)
async def test_trade_values_are_read_strictly(
    client: AsyncClient, app: FastAPI, session: AsyncSession, field: str, value: object
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, cash="100000")
    trade = {"ticker": "AAPL", "side": "buy", "quantity": "10", "price": "10"}
    trade |= {"trade_date": "2025-01-02", field: value}
    response = await client.post(
        f"/portfolios/{portfolio.slug}/trades", json=trade, headers=await bearer(app, pm)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["errors"][0]["loc"][-1] == field


@pytest.mark.parametrize("flag", [1, "yes", "True", "on"])
async def test_booleans_are_true_or_false(
    client: AsyncClient, app: FastAPI, session: AsyncSession, flag: object
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    headers = await bearer(app, pm)
    created = await client.post(
        "/portfolios", json={"name": "Strict", "allow_short": flag}, headers=headers
    )
    assert created.status_code == 422, created.text
    listed = await client.get(f"/portfolios?include_archived={flag}", headers=headers)
    assert listed.status_code == 422, listed.text
    assert (await client.get("/portfolios?include_archived=true", headers=headers)).is_success


@pytest.mark.parametrize("limit", ["1_0", "٥", "+5 "])  # noqa: RUF001
async def test_page_sizes_are_plain_numbers(
    client: AsyncClient, app: FastAPI, session: AsyncSession, limit: str
) -> None:
    headers = await bearer(app, await make_user(session))
    response = await client.get(f"/portfolios?limit={limit}", headers=headers)
    assert response.status_code == 422, response.text

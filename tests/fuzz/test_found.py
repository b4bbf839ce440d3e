"""What the fuzzer found, pinned: each of these answered 500 or off-schema before."""

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.factories import bearer, make_portfolio, make_user


async def test_renaming_a_portfolio_to_a_taken_name_is_a_conflict(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    taken = await make_portfolio(session, admin)
    other = await make_portfolio(session, admin)
    response = await client.patch(
        f"/portfolios/{other.slug}", json={"name": taken.name}, headers=await bearer(app, admin)
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "portfolio_exists"


async def test_taking_another_users_username_is_a_conflict(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    first = await make_user(session)
    second = await make_user(session)
    response = await client.patch(
        "/users/me", json={"username": first.username}, headers=await bearer(app, second)
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "username_taken"


async def test_registering_a_taken_username_is_a_documented_conflict(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    taken = await make_user(session)
    body = {
        "email": "new@desk.example",
        "password": "a long enough secret",
        "username": taken.username,
    }
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "username_taken"
    assert "409" in app.openapi()["paths"]["/auth/register"]["post"]["responses"]


async def test_null_in_a_self_update_leaves_the_field_as_it_is(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    user = await make_user(session, Role.VIEWER)
    headers = await bearer(app, user)
    for field in ("email", "username", "full_name", "password"):
        response = await client.patch("/users/me", json={field: None}, headers=headers)
        assert response.status_code == 200, (field, response.text)
        assert response.json()["email"] == user.email


async def test_null_in_an_admin_user_update_leaves_the_field_as_it_is(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    user = await make_user(session, Role.VIEWER)
    body = {"is_active": None, "role": None, "full_name": None, "team_id": None}
    response = await client.patch(
        f"/admin/users/{user.id}", json=body, headers=await bearer(app, admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is True and response.json()["role"] == "viewer"


async def test_ids_and_offsets_beyond_64_bits_are_invalid_not_a_crash(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    headers = await bearer(app, admin)
    fund = await make_portfolio(session, admin)
    huge = 10**20
    for path in (
        f"/portfolios?offset={huge}",
        f"/portfolios/{fund.slug}/trades?offset={huge}",
        f"/portfolios/{fund.slug}/trades/{huge}",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"]["code"] == "validation_error"


async def test_a_nul_character_is_refused_as_invalid_input(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.ADMIN))
    response = await client.get("/portfolios", params={"q": "a\x00b"}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "unstorable_value"
    login = await client.post("/auth/jwt/login", data={"username": "a\x00@x.io", "password": "p"})
    assert login.status_code in (400, 422), login.text


async def test_an_unreadable_body_is_400_in_the_envelope_and_documented(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.ADMIN))
    headers["Content-Type"] = "application/json"
    response = await client.post("/admin/teams", content=b"\xff\xfe{", headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_body"
    documented = app.openapi()["paths"]["/admin/teams"]["post"]["responses"]
    assert "400" in documented


async def test_every_documented_error_is_the_envelope(app: FastAPI) -> None:
    document = app.openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                assert schema == {"$ref": "#/components/schemas/ErrorEnvelope"} or (
                    path == "/health/ready" and status == "503"
                ), (method, path, status, schema)


async def test_prices_ending_in_year_one_are_not_a_crash(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.VIEWER))
    response = await client.get("/market/tickers/AAPL/prices?end=0001-01-01", headers=headers)
    assert response.status_code < 500, response.text

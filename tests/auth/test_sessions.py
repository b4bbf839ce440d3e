"""Which tokens still sign a request in: the account's state is read on every request."""

import jwt
import redis.asyncio
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.auth.strategy import RevocableJWTStrategy
from tests.auth.test_admin import RecordingSender, outbox  # noqa: F401 (a fixture)
from tests.conftest import REDIS_URL
from tests.factories import PASSWORD, bearer, make_user

NEW_PASSWORD = "an entirely new passphrase"


async def _signed_in(client: AsyncClient, headers: dict[str, str]) -> bool:
    response = await client.get("/users/me", headers=headers)
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


async def test_a_forged_token_for_a_pending_account_is_refused(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    pending = await make_user(session, approved=False)
    assert not await _signed_in(client, await bearer(app, pending))


async def test_a_token_without_expiry_is_refused(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    user = await make_user(session)
    token = (await bearer(app, user))["Authorization"].split()[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["exp"]
    forever = jwt.encode(claims, app.state.shared.tokens.encode_key, algorithm="HS256")
    assert not await _signed_in(client, {"Authorization": f"Bearer {forever}"})


async def test_a_password_change_ends_every_session(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    user = await make_user(session)
    laptop, phone = await bearer(app, user), await bearer(app, user)
    changed = await client.patch("/users/me", json={"full_name": "Renamed"}, headers=laptop)
    assert changed.status_code == 200
    assert await _signed_in(client, phone), "a change other than the password ends nothing"

    changed = await client.patch("/users/me", json={"password": NEW_PASSWORD}, headers=laptop)
    assert changed.status_code == 200, changed.text
    assert not await _signed_in(client, phone)
    assert not await _signed_in(client, laptop)
    login = await client.post(
        "/auth/jwt/login", data={"username": user.email, "password": NEW_PASSWORD}
    )
    fresh = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert await _signed_in(client, fresh)


async def test_a_password_reset_ends_every_session(
    client: AsyncClient,
    app: FastAPI,
    session: AsyncSession,
    outbox: RecordingSender,  # noqa: F811
) -> None:
    user = await make_user(session)
    stolen = await bearer(app, user)
    await client.post("/auth/forgot-password", json={"email": user.email})
    reset_token = outbox.sent[-1][2].rsplit(" ", 1)[-1]
    reset = await client.post(
        "/auth/reset-password", json={"token": reset_token, "password": NEW_PASSWORD}
    )
    assert reset.status_code == 200, reset.text
    assert not await _signed_in(client, stolen)


async def test_deactivating_then_reactivating_does_not_revive_old_tokens(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin, user = await make_user(session, Role.ADMIN), await make_user(session)
    admin_headers, old = await bearer(app, admin), await bearer(app, user)
    for active in (False, True):
        response = await client.patch(
            f"/admin/users/{user.id}", json={"is_active": active}, headers=admin_headers
        )
        assert response.status_code == 200, response.text
    assert not await _signed_in(client, old)
    form = {"username": user.email, "password": PASSWORD}
    assert (await client.post("/auth/jwt/login", data=form)).status_code == 200


async def test_a_demoted_superuser_loses_every_admin_right(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    chief = await make_user(session, superuser=True)
    demoted = await client.patch(
        f"/admin/users/{chief.id}", json={"role": "viewer"}, headers=await bearer(app, admin)
    )
    assert demoted.status_code == 200
    assert demoted.json()["role"] == "viewer" and demoted.json()["is_superuser"] is False

    login = await client.post(
        "/auth/jwt/login", data={"username": chief.email, "password": PASSWORD}
    )
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    listed = await client.get("/admin/users", headers=headers)
    assert listed.status_code == 403
    assert listed.json()["error"]["code"] == "permission_denied"


async def test_a_signed_out_token_stays_signed_out_when_the_cache_forgets(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    user = await make_user(session)
    headers = await bearer(app, user)
    assert (await client.post("/auth/jwt/logout", headers=headers)).status_code == 204
    cache = redis.asyncio.Redis.from_url(REDIS_URL)
    await cache.flushdb()
    await cache.aclose()
    assert not await _signed_in(client, headers)


async def test_an_overlong_token_is_refused_unread(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    """Verified tokens are kept by the process: a megabyte of garbage must not be."""
    verified = RevocableJWTStrategy._verified
    before = verified.cache_info().currsize
    for n in range(3):
        garbage = {"Authorization": f"Bearer {n}{'x' * 1_000_000}"}
        response = await client.get("/users/me", headers=garbage)
        assert response.status_code == 401
    assert verified.cache_info().currsize == before
    user = await make_user(session)
    assert (await client.get("/users/me", headers=await bearer(app, user))).status_code == 200

"""Two API processes on one database: a signed-in user kept by one is forgotten at once when
the other changes the account or signs the token out."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import jwt
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from app.auth.permissions import Role
from app.auth.sessions import SWEEP_FROM, SignedInCache
from app.main import create_app
from tests.conftest import REDIS_URL, make_settings
from tests.factories import bearer, make_user

AT_ONCE_SECONDS = 2.0


@asynccontextmanager
async def two_processes(database_url: str) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    settings = make_settings(
        database_url=database_url, redis_url=REDIS_URL, session_cache_seconds=30
    )
    first, second = create_app(settings), create_app(settings)
    async with LifespanManager(first), LifespanManager(second):
        for app in (first, second):
            await _until(lambda app=app: app.state.shared.tokens.signed_in.listening)
        yield first, second


async def _until(condition: object) -> None:
    deadline = time.monotonic() + AT_ONCE_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.01)


def client(app: FastAPI) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="https://test")


async def _me(app: FastAPI, headers: dict[str, str]) -> int:
    async with client(app) as c:
        return (await c.get("/users/me", headers=headers)).status_code


def _kept(app: FastAPI, headers: dict[str, str]) -> bool:
    token = headers["Authorization"].split()[1]
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    return app.state.shared.tokens.signed_in.get(jti) is not None


async def test_a_deactivation_in_one_process_signs_out_in_the_other(
    fresh_database_url: str,
) -> None:
    async with two_processes(fresh_database_url) as (first, second):
        async with first.state.shared.sessions() as session:
            admin = await make_user(session, Role.ADMIN)
            user = await make_user(session)
        headers = await bearer(first, user)
        assert await _me(second, headers) == 200 and _kept(second, headers)
        async with client(first) as c:
            deactivated = await c.patch(
                f"/admin/users/{user.id}",
                json={"is_active": False},
                headers=await bearer(first, admin),
            )
        assert deactivated.status_code == 200
        await _until(lambda: not _kept(second, headers))
        assert await _me(second, headers) == 401


async def test_a_sign_out_in_one_process_holds_in_the_other(fresh_database_url: str) -> None:
    async with two_processes(fresh_database_url) as (first, second):
        async with first.state.shared.sessions() as session:
            user = await make_user(session)
        headers = await bearer(first, user)
        other_session = await bearer(first, user)
        for h in (headers, other_session):
            assert await _me(second, h) == 200 and _kept(second, h)
        async with client(first) as c:
            assert (await c.post("/auth/jwt/logout", headers=headers)).status_code == 204
        await _until(lambda: not _kept(second, headers))
        assert await _me(second, headers) == 401
        assert _kept(second, other_session) and await _me(second, other_session) == 200


async def test_a_password_change_kept_elsewhere_updates_the_row(fresh_database_url: str) -> None:
    async with two_processes(fresh_database_url) as (first, second):
        async with first.state.shared.sessions() as session:
            user = await make_user(session)
        headers = await bearer(first, user)
        assert await _me(second, headers) == 200 and _kept(second, headers)
        async with client(second) as c:
            renamed = await c.patch("/users/me", json={"full_name": "Kept"}, headers=headers)
        assert renamed.status_code == 200 and renamed.json()["full_name"] == "Kept"
        async with client(first) as c:
            assert (await c.get("/users/me", headers=headers)).json()["full_name"] == "Kept"


async def test_a_kept_token_id_under_another_session_version_is_not_the_kept_user(
    fresh_database_url: str,
) -> None:
    async with two_processes(fresh_database_url) as (first, _):
        async with first.state.shared.sessions() as session:
            user = await make_user(session)
        headers = await bearer(first, user)
        assert await _me(first, headers) == 200 and _kept(first, headers)
        token = headers["Authorization"].split()[1]
        claims = jwt.decode(token, options={"verify_signature": False})
        strategy = first.state.shared.tokens
        stale = jwt.encode(claims | {"ver": claims["ver"] + 1}, strategy.encode_key, "HS256")
        assert await _me(first, {"Authorization": f"Bearer {stale}"}) == 401


def test_kept_users_whose_time_is_over_are_swept() -> None:
    cache = SignedInCache(keep_seconds=0.0)
    cache.listening = True
    for n in range(10 * SWEEP_FROM):
        cache.put(f"token-{n}", {"id": f"user-{n % 7}"})
    assert len(cache._users) <= 2 * SWEEP_FROM
    assert sum(len(tokens) for tokens in cache._tokens.values()) == len(cache._users)

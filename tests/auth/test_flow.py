"""The sign-in journey of the dashboard (cookie + CSRF) and of curl (bearer)."""

import asyncio
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.factories import PASSWORD, bearer, make_user


def login_form(email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"username": email, "password": password}


async def test_register_pending_approve_then_cookie_and_bearer(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    registered = await client.post(
        "/auth/register",
        json={"email": "ada@desk.example", "password": PASSWORD, "username": "ada"},
    )
    assert registered.status_code == 202, registered.text

    pending = await client.post("/auth/cookie/login", data=login_form("ada@desk.example"))
    assert pending.status_code == 403
    assert pending.json()["error"]["code"] == "account_pending_approval"

    admin = await make_user(session, Role.ADMIN)
    waiting = await client.get(
        "/admin/users?approved=false&q=ada@desk.example", headers=await bearer(app, admin)
    )
    [user] = waiting.json()["items"]
    user_id = user["id"]
    assert user["approved_at"] is None and user["username"] == "ada"
    approved = await client.post(
        f"/admin/users/{user_id}/approve", headers=await bearer(app, admin)
    )
    assert approved.status_code == 200 and approved.json()["approved_by"] == str(admin.id)

    login = await client.post("/auth/cookie/login", data=login_form("ada@desk.example"))
    assert login.status_code == 204
    set_cookie = login.headers.get_list("set-cookie")
    auth_cookie = next(c for c in set_cookie if c.startswith("folio_auth="))
    assert "HttpOnly" in auth_cookie and "SameSite=lax" in auth_cookie and "Secure" in auth_cookie
    csrf_cookie = next(c for c in set_cookie if c.startswith("csrftoken="))
    assert "HttpOnly" not in csrf_cookie
    me = await client.get("/users/me")
    assert me.status_code == 200 and me.json()["email"] == "ada@desk.example"

    no_csrf = await client.patch("/users/me", json={"full_name": "Ada L"})
    assert no_csrf.status_code == 403
    assert no_csrf.json()["error"]["code"] == "csrf_failed"
    wrong_csrf = await client.patch(
        "/users/me", json={"full_name": "Ada L"}, headers={"X-CSRF-Token": "forged"}
    )
    assert wrong_csrf.status_code == 403
    for empty in ("Bearer", "Bearer ", "bearer   "):  # no token in it: the cookie signs in
        no_token = await client.patch(
            "/users/me", json={"full_name": "Ada L"}, headers={"Authorization": empty}
        )
        assert no_token.status_code == 403, empty
        assert no_token.json()["error"]["code"] == "csrf_failed"
    token = client.cookies["csrftoken"]
    with_csrf = await client.patch(
        "/users/me", json={"full_name": "Ada L"}, headers={"X-CSRF-Token": token}
    )
    assert with_csrf.status_code == 200 and with_csrf.json()["full_name"] == "Ada L"

    client.cookies.clear()
    jwt_login = await client.post("/auth/jwt/login", data=login_form("ada@desk.example"))
    assert jwt_login.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {jwt_login.json()['access_token']}"}
    by_bearer = await client.patch("/users/me", json={"full_name": "Ada B"}, headers=headers)
    assert by_bearer.status_code == 200 and by_bearer.json()["full_name"] == "Ada B"


async def test_wrong_password_is_refused_without_saying_which_part(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    wrong = await client.post("/auth/jwt/login", data=login_form(user.email, "not the password"))
    unknown = await client.post("/auth/jwt/login", data=login_form("nobody@desk.example"))
    assert wrong.status_code == unknown.status_code == 400
    assert (
        wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "login_bad_credentials"
    )


async def test_registration_does_not_say_whether_an_address_has_an_account(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    new = {"email": "new@desk.example", "password": PASSWORD, "username": "newcomer"}
    known = new | {"email": user.email.upper(), "username": "someone_else"}
    answers = [await client.post("/auth/register", json=body) for body in (new, known)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].content == answers[1].content
    forgot = [
        await client.post("/auth/forgot-password", json={"email": email})
        for email in (user.email, "nobody@desk.example")
    ]
    assert [r.status_code for r in forgot] == [202, 202]
    assert forgot[0].content == forgot[1].content


async def test_sixth_wrong_password_is_throttled(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    for _ in range(5):
        response = await client.post("/auth/jwt/login", data=login_form(user.email, "wrong-pass"))
        assert response.status_code == 400
    sixth = await client.post("/auth/jwt/login", data=login_form(user.email, "wrong-pass"))
    assert sixth.status_code == 429
    assert sixth.json()["error"]["code"] == "login_throttled"
    assert 0 < int(sixth.headers["Retry-After"]) <= 15 * 60
    right_but_throttled = await client.post("/auth/jwt/login", data=login_form(user.email))
    assert right_but_throttled.status_code == 429


async def test_parallel_wrong_passwords_are_throttled_all_the_same(
    committed_app: FastAPI,
) -> None:
    async with committed_app.state.shared.sessions() as session:
        user = await make_user(session)
    form = login_form(user.email, "wrong-pass")
    transport = ASGITransport(app=committed_app)
    async with AsyncClient(transport=transport, base_url="https://test") as client:
        logins = (client.post("/auth/jwt/login", data=form) for _ in range(30))
        answers = await asyncio.gather(*logins)
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(400) == 5 and statuses.count(429) == 25, statuses


async def test_right_passwords_do_not_count_against_the_address(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    for _ in range(25):
        assert (await client.post("/auth/jwt/login", data=login_form(user.email))).is_success


async def test_success_resets_the_account_counter(
    client: AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session)
    for _ in range(4):
        await client.post("/auth/jwt/login", data=login_form(user.email, "wrong-pass"))
    assert (await client.post("/auth/jwt/login", data=login_form(user.email))).status_code == 200
    for _ in range(4):
        response = await client.post("/auth/jwt/login", data=login_form(user.email, "wrong-pass"))
        assert response.status_code == 400


async def test_twenty_failures_from_one_address_lock_no_other_account_out(
    client: AsyncClient, session: AsyncSession
) -> None:
    users = [await make_user(session) for _ in range(5)]
    for user in users:
        for _ in range(4):
            await client.post("/auth/jwt/login", data=login_form(user.email, "wrong-pass"))
    other = await make_user(session)
    response = await client.post("/auth/jwt/login", data=login_form(other.email))
    assert response.status_code == 200


async def test_a_hundred_failures_from_one_address_block_it(
    client: AsyncClient, session: AsyncSession
) -> None:
    for n in range(100):
        form = login_form(f"guess{n % 25}@desk.example", "wrong-pass")
        assert (await client.post("/auth/jwt/login", data=form)).status_code == 400
    other = await make_user(session)
    response = await client.post("/auth/jwt/login", data=login_form(other.email))
    assert response.status_code == 429


async def test_deactivation_stops_existing_tokens(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    user, admin = await make_user(session), await make_user(session, Role.ADMIN)
    login = await client.post("/auth/jwt/login", data=login_form(user.email))
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/users/me", headers=headers)).status_code == 200
    deactivated = await client.patch(
        f"/admin/users/{user.id}", json={"is_active": False}, headers=await bearer(app, admin)
    )
    assert deactivated.json()["is_active"] is False
    response = await client.get("/users/me", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


async def test_logout_revokes_the_bearer_token(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session)
    login = await client.post("/auth/jwt/login", data=login_form(user.email))
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.post("/auth/jwt/logout", headers=headers)).status_code == 204
    assert (await client.get("/users/me", headers=headers)).status_code == 401


async def test_logout_revokes_a_copied_cookie(client: AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session)
    await client.post("/auth/cookie/login", data=login_form(user.email))
    copied = {"folio_auth": client.cookies["folio_auth"]}
    csrf = {"X-CSRF-Token": client.cookies["csrftoken"]}
    assert (await client.post("/auth/cookie/logout", headers=csrf)).status_code == 204
    client.cookies.clear()
    client.cookies.update(copied)
    assert (await client.get("/users/me")).status_code == 401


async def test_tampered_and_expired_tokens_are_refused(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    import jwt as pyjwt

    user = await make_user(session)
    token = (await bearer(app, user))["Authorization"].split()[1]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-2]}xx"
    key = app.state.shared.tokens.encode_key
    claims = pyjwt.decode(token, options={"verify_signature": False})
    expired = pyjwt.encode(claims | {"exp": 1}, key, algorithm="HS256")
    other_key = pyjwt.encode(claims, "another secret of the right length......", algorithm="HS256")
    no_sig = pyjwt.encode(claims, None, algorithm="none")
    forever = pyjwt.encode({k: v for k, v in claims.items() if k != "exp"}, key, algorithm="HS256")
    no_version = pyjwt.encode({k: v for k, v in claims.items() if k != "ver"}, key)
    text_version = pyjwt.encode(claims | {"ver": "0"}, key, algorithm="HS256")
    bad_subject = pyjwt.encode(claims | {"sub": "admin"}, key, algorithm="HS256")
    bad_ones = (tampered, expired, other_key, no_sig, forever, no_version, text_version)
    for bad in (*bad_ones, bad_subject, "garbage"):
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad


async def test_anonymous_gets_401_with_the_envelope(client: AsyncClient) -> None:
    response = await client.get("/users/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_no_response_contains_the_password_hash(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    headers = await bearer(app, admin)
    bodies = [
        (
            await client.post(
                "/auth/register",
                json={"email": "grace@desk.example", "password": PASSWORD, "username": "grace"},
            )
        ).text,
        (await client.get("/users/me", headers=headers)).text,
        (await client.get("/admin/users", headers=headers)).text,
        (await client.get("/admin/audit", headers=headers)).text,
    ]
    for body in bodies:
        assert "hashed_password" not in body and "argon2" not in body


@pytest.mark.parametrize(
    "field,value",
    [
        ("role", "admin"),
        ("is_superuser", True),
        ("is_active", False),
        ("is_verified", True),
        ("team_id", str(uuid.uuid4())),
        ("approved_at", "2026-01-01T00:00:00Z"),
    ],
)
async def test_users_cannot_raise_themselves(
    client: AsyncClient, app: FastAPI, session: AsyncSession, field: str, value: object
) -> None:
    user = await make_user(session, Role.VIEWER)
    headers = await bearer(app, user)
    response = await client.patch("/users/me", json={field: value}, headers=headers)
    assert response.status_code == 422
    me = (await client.get("/users/me", headers=headers)).json()
    assert me["role"] == "viewer" and me["is_superuser"] is False and me["team_id"] is None
    assert me["is_active"] is True


@pytest.mark.parametrize("field,value", [("role", "admin"), ("is_superuser", True)])
async def test_registration_cannot_choose_privileges(
    client: AsyncClient, field: str, value: object
) -> None:
    body = {"email": "eve@desk.example", "password": PASSWORD, "username": "eve", field: value}
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "password,why",
    [("short", "length"), ("my name is grace2 ok", "username"), ("grace-at-desk-pw", "email")],
)
async def test_weak_passwords_are_refused(client: AsyncClient, password: str, why: str) -> None:
    body = {"email": "grace@desk.example", "password": password, "username": "grace2"}
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 400, why
    assert response.json()["error"]["code"] == "register_invalid_password"


@pytest.mark.parametrize("spelling", [str.lower, str.upper, str.title])
async def test_duplicate_username_is_a_conflict_whatever_its_case(
    client: AsyncClient, session: AsyncSession, spelling: Callable[[str], str]
) -> None:
    user = await make_user(session)
    body = {"email": "new@desk.example", "password": PASSWORD, "username": spelling(user.username)}
    response = await client.post("/auth/register", json=body)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "username_taken"

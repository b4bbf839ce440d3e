"""Admin routes, the audit trail and password reset by email."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.factories import PASSWORD, bearer, make_team, make_user


async def test_admin_lists_and_filters_users(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    pending = await make_user(session, Role.VIEWER, approved=False)
    headers = await bearer(app, admin)
    body = (await client.get("/admin/users?approved=false", headers=headers)).json()
    assert [u["id"] for u in body["items"]] == [str(pending.id)]
    assert body["total"] == 1 and body["limit"] == 50 and body["offset"] == 0
    by_role = (await client.get("/admin/users?role=admin", headers=headers)).json()
    assert {u["role"] for u in by_role["items"]} == {"admin"}
    found = (await client.get(f"/admin/users?q={pending.username}", headers=headers)).json()
    assert found["total"] == 1


async def test_admin_changes_role_and_team_and_it_is_audited(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin, user = await make_user(session, Role.ADMIN), await make_user(session, Role.VIEWER)
    team = await make_team(session)
    headers = await bearer(app, admin)
    response = await client.patch(
        f"/admin/users/{user.id}",
        json={"role": "portfolio_manager", "team_id": str(team.id)},
        headers=headers,
    )
    assert response.json()["role"] == "portfolio_manager"
    assert response.json()["team_id"] == str(team.id)
    audit = (await client.get(f"/admin/audit?object_id={user.id}", headers=headers)).json()
    [event] = [e for e in audit["items"] if e["action"] == "user.update"]
    assert event["actor_id"] == str(admin.id)
    assert event["before"]["role"] == "viewer" and event["after"]["role"] == "portfolio_manager"
    assert event["after"]["team_id"] == str(team.id)
    assert event["request_id"]


async def test_unknown_team_is_refused(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin, user = await make_user(session, Role.ADMIN), await make_user(session)
    response = await client.patch(
        f"/admin/users/{user.id}",
        json={"team_id": "00000000-0000-0000-0000-000000000000"},
        headers=await bearer(app, admin),
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "team_not_found"


async def test_teams_are_created_once_and_listed(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    headers = await bearer(app, await make_user(session, Role.ADMIN))
    created = await client.post("/admin/teams", json={"name": "Equities"}, headers=headers)
    assert created.status_code == 201
    again = await client.post("/admin/teams", json={"name": "Equities"}, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "team_exists"
    listed = (await client.get("/admin/teams", headers=headers)).json()
    assert [t["name"] for t in listed["items"]] == ["Equities"]
    audit = (await client.get("/admin/audit?action=team.create", headers=headers)).json()
    assert audit["items"][0]["after"] == {"name": "Equities"}


async def test_audit_filters_by_actor_and_time(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin, user = await make_user(session, Role.ADMIN), await make_user(session, approved=False)
    headers = await bearer(app, admin)
    await client.post(f"/admin/users/{user.id}/approve", headers=headers)
    mine = (await client.get(f"/admin/audit?actor_id={admin.id}", headers=headers)).json()
    assert [e["action"] for e in mine["items"]] == ["user.approve"]
    future = (await client.get("/admin/audit?since=2999-01-01T00:00:00Z", headers=headers)).json()
    assert future["total"] == 0


async def test_audit_events_cannot_be_changed_or_deleted(session: AsyncSession) -> None:
    await make_user(session)
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with session.begin_nested():
                await session.execute(text(statement))


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append((to, subject, body))


@pytest.fixture
def outbox(app: FastAPI) -> Iterator[RecordingSender]:
    real, app.state.shared.email = app.state.shared.email, RecordingSender()
    yield app.state.shared.email
    app.state.shared.email = real


async def test_forgot_and_reset_password_by_email(
    client: AsyncClient, session: AsyncSession, outbox: RecordingSender
) -> None:
    user = await make_user(session)
    assert (
        await client.post("/auth/forgot-password", json={"email": user.email})
    ).status_code == 202
    [(to, _, body)] = outbox.sent
    assert to == user.email
    token = body.rsplit(" ", 1)[-1]
    new_password = "a brand new passphrase"
    reset = await client.post(
        "/auth/reset-password", json={"token": token, "password": new_password}
    )
    assert reset.status_code == 200
    old = await client.post("/auth/jwt/login", data={"username": user.email, "password": PASSWORD})
    assert old.status_code == 400
    new = await client.post(
        "/auth/jwt/login", data={"username": user.email, "password": new_password}
    )
    assert new.status_code == 200


async def test_email_verification(client: AsyncClient, outbox: RecordingSender) -> None:
    registered = await client.post(
        "/auth/register",
        json={"email": "lin@desk.example", "password": PASSWORD, "username": "lin"},
    )
    assert registered.status_code == 202
    await client.post("/auth/request-verify-token", json={"email": "lin@desk.example"})
    token = outbox.sent[-1][2].rsplit(" ", 1)[-1]
    verified = await client.post("/auth/verify", json={"token": token})
    assert verified.status_code == 200 and verified.json()["is_verified"] is True


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    admin = await make_user(session, Role.ADMIN)
    other = await make_user(session, Role.ADMIN)
    # this test's two admins are the only active ones
    await session.execute(
        text("UPDATE users SET is_active = false WHERE id NOT IN (:a, :b)"),
        {"a": admin.id, "b": other.id},
    )
    await session.commit()
    headers = await bearer(app, admin)
    demoted = await client.patch(
        f"/admin/users/{other.id}", json={"role": "viewer"}, headers=headers
    )
    assert demoted.status_code == 200, demoted.text
    for change in ({"role": "viewer"}, {"is_active": False}):
        refused = await client.patch(f"/admin/users/{admin.id}", json=change, headers=headers)
        assert refused.status_code == 409, change
        assert refused.json()["error"]["code"] == "last_admin"
    me = await client.get("/users/me", headers=headers)
    assert me.json()["role"] == "admin"
    renamed = await client.patch(
        f"/admin/users/{admin.id}", json={"full_name": "Still In Charge"}, headers=headers
    )
    assert renamed.status_code == 200


async def test_a_registration_is_audited_and_the_trail_names_its_actors(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    body = {"email": "newcomer@desk.example", "username": "newcomer", "password": PASSWORD}
    assert (await client.post("/auth/register", json=body)).status_code == 202
    newcomer = str(
        await session.scalar(text("SELECT id FROM users WHERE email = 'newcomer@desk.example'"))
    )
    admin = await make_user(session, Role.ADMIN)
    headers = await bearer(app, admin)
    approved = await client.post(f"/admin/users/{newcomer}/approve", headers=headers)
    assert approved.status_code == 200
    trail = await client.get("/admin/audit", params={"object_id": newcomer}, headers=headers)
    assert [(e["action"], e["actor_email"]) for e in trail.json()["items"]] == [
        ("user.approve", admin.email),
        ("user.register", "newcomer@desk.example"),
    ]

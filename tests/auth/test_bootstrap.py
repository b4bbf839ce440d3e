"""The first admin, the `folio user` commands, and sessions that do not need the cache."""

from collections.abc import Iterator

import pytest
from asgi_lifespan import LifespanManager
from httpx import ASGITransport, AsyncClient
from typer.testing import CliRunner

from app.cli.db import upgrade_to_head
from app.cli.main import cli
from app.core.config import get_settings
from app.main import create_app
from app.users.bootstrap import EMBEDDED_ADMIN_EMAIL
from tests.conftest import make_settings
from tests.factories import PASSWORD, make_user


@pytest.fixture
def sqlite_url(tmp_sqlite_url: str) -> str:
    upgrade_to_head(tmp_sqlite_url)
    return tmp_sqlite_url


def client_for(app: object) -> AsyncClient:
    return AsyncClient(transport=ASGITransport(app=app), base_url="https://test")  # type: ignore[arg-type]


async def test_embedded_first_start_creates_an_admin_and_prints_the_password_once(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(database_url=sqlite_url, redis_url=None)
    app = create_app(settings)
    async with LifespanManager(app), client_for(app) as client:
        printed = capsys.readouterr().out
        assert EMBEDDED_ADMIN_EMAIL in printed
        password = printed.split("One-time password (shown only now): ")[1].split()[0]
        form = {"username": EMBEDDED_ADMIN_EMAIL, "password": password}
        login = await client.post("/auth/jwt/login", data=form)
        assert login.status_code == 200
        me = await client.get(
            "/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert me.json()["role"] == "admin" and me.json()["is_superuser"] is True
    again = create_app(settings)
    async with LifespanManager(again):
        assert "One-time password" not in capsys.readouterr().out


async def test_first_superuser_settings_create_that_admin(sqlite_url: str) -> None:
    settings = make_settings(
        database_url=sqlite_url,
        redis_url=None,
        first_superuser_email="boss@desk.example",
        first_superuser_password="the chief passphrase 1",
    )
    app = create_app(settings)
    async with LifespanManager(app), client_for(app) as client:
        form = {"username": "boss@desk.example", "password": "the chief passphrase 1"}
        assert (await client.post("/auth/jwt/login", data=form)).status_code == 200


async def test_signed_in_and_signed_out_without_the_cache(sqlite_url: str) -> None:
    settings = make_settings(database_url=sqlite_url, redis_url="redis://127.0.0.1:1/0")
    app = create_app(settings)
    async with LifespanManager(app), client_for(app) as client:
        async with app.state.shared.sessions() as session:
            user = await make_user(session)
        headers = {"Authorization": f"Bearer {await app.state.shared.tokens.write_token(user)}"}
        assert (await client.get("/users/me", headers=headers)).status_code == 200
        assert (await client.post("/auth/jwt/logout", headers=headers)).status_code == 204
        assert (await client.get("/users/me", headers=headers)).status_code == 401


@pytest.fixture
def cli_env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("LOG_DIR", "")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_user_commands_create_list_and_approve(cli_env: CliRunner) -> None:
    created = cli_env.invoke(
        cli,
        [
            "user",
            "create",
            "--email",
            "pm@desk.example",
            "--password",
            PASSWORD,
            "--role",
            "portfolio_manager",
            "--full-name",
            "Pat Manager",
        ],
    )
    assert created.exit_code == 0, created.output
    assert "pm@desk.example (portfolio_manager)" in created.output
    listed = cli_env.invoke(cli, ["user", "list"])
    assert "pm@desk.example" in listed.output and "portfolio_manager" in listed.output
    assert cli_env.invoke(cli, ["user", "list", "--pending"]).output.count("@") == 0
    approved = cli_env.invoke(cli, ["user", "approve", "pm@desk.example"])
    assert approved.exit_code == 0


def test_user_create_refuses_a_weak_password_and_a_taken_email(cli_env: CliRunner) -> None:
    weak = cli_env.invoke(cli, ["user", "create", "--email", "a@desk.example", "--password", "x"])
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
    args = ["user", "create", "--email", "b@desk.example", "--password", PASSWORD, "--superuser"]
    assert cli_env.invoke(cli, args).exit_code == 0
    taken = cli_env.invoke(cli, args)
    assert taken.exit_code == 1
    missing = cli_env.invoke(cli, ["user", "approve", "nobody@desk.example"])
    assert missing.exit_code == 1 and "No such user" in missing.output

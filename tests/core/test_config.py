"""Settings refuse what would be unsafe, parse what people write, and stay documented."""

import re
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from app.auth.strategy import RevocableJWTStrategy
from app.cli.main import cli
from app.core.config import DEFAULT_SECRET_KEY, Environment, ProviderName, Settings, get_settings

ROOT = Path(__file__).resolve().parents[2]
LONG_SECRET = "x" * 32
SETTING_NAMES = {name.upper() for name in Settings.model_fields}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No setting from the caller's environment or `.env`, and a fresh `get_settings`."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize("secret", [DEFAULT_SECRET_KEY, "short-secret", "x" * 31])
def test_production_refuses_a_default_or_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY must be set to a random value"):
        Settings(_env_file=None, environment=Environment.PRODUCTION, secret_key=secret)


def test_production_accepts_a_long_secret() -> None:
    settings = Settings(_env_file=None, environment=Environment.PRODUCTION, secret_key=LONG_SECRET)
    assert settings.secret_key == LONG_SECRET


@pytest.mark.parametrize("secret", ["", DEFAULT_SECRET_KEY])
def test_outside_production_an_unset_secret_is_made_once_and_kept(
    tmp_path: Path, secret: str
) -> None:
    kept = tmp_path / "data" / "secret"
    first = Settings(_env_file=None, secret_key=secret, secret_key_file=kept)
    assert first.secret_key not in ("", DEFAULT_SECRET_KEY) and len(first.secret_key) >= 48
    assert kept.stat().st_mode & 0o777 == 0o600
    again = Settings(_env_file=None, secret_key=secret, secret_key_file=kept)
    assert again.secret_key == first.secret_key
    elsewhere = Settings(_env_file=None, secret_key=secret, secret_key_file=tmp_path / "other")
    assert elsewhere.secret_key != first.secret_key
    assert [p.name for p in kept.parent.iterdir()] == ["secret"]


def test_a_token_signed_with_the_old_default_is_refused(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, secret_key_file=tmp_path / "secret")
    strategy = RevocableJWTStrategy(settings.secret_key, 3600)
    forged = jwt.encode(
        {"sub": str(uuid.uuid4()), "ver": 0, "jti": "x", "aud": "folio", "exp": 2**40},
        DEFAULT_SECRET_KEY,
        algorithm="HS256",
    )
    assert strategy.claims(forged) is None


def test_cors_origins_parse_a_comma_separated_variable(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("CORS_ORIGINS", "https://desk.example.com, http://localhost:5173,")
    assert Settings(_env_file=None).cors_origins == [
        "https://desk.example.com",
        "http://localhost:5173",
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, ProviderName.SIMULATED),
        ({"tiingo_api_key": "t"}, ProviderName.TIINGO),
        ({"polygon_api_key": "p"}, ProviderName.POLYGON),
        ({"tiingo_api_key": "t", "polygon_api_key": "p"}, ProviderName.TIINGO),
        ({"polygon_api_key": "p", "market_data_provider": "simulated"}, ProviderName.SIMULATED),
        ({"tiingo_api_key": "t", "market_data_provider": "polygon"}, ProviderName.POLYGON),
    ],
)
def test_selected_provider_follows_the_explicit_choice_then_the_keys(
    clean_env: pytest.MonkeyPatch, values: dict[str, str], expected: ProviderName
) -> None:
    assert Settings(_env_file=None, **values).selected_provider is expected  # type: ignore[arg-type]


def _env_example_keys() -> list[str]:
    text = (ROOT / ".env.example").read_text()
    return re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def test_env_example_lists_every_setting_once() -> None:
    keys = _env_example_keys()
    assert sorted(keys) == sorted(set(keys)), "a setting is listed twice"
    assert set(keys) == SETTING_NAMES


def test_env_example_comments_every_setting() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^(?:# )?[A-Z][A-Z0-9_]*=", line):
            assert lines[i - 1].startswith("# "), f"no comment above {line!r}"


def test_env_example_values_are_the_defaults(clean_env: pytest.MonkeyPatch) -> None:
    from_example = Settings(_env_file=ROOT / ".env.example")
    assert from_example.model_dump() == Settings(_env_file=None).model_dump()


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = {name for name in SETTING_NAMES if f"| `{name}` |" not in readme}
    assert not missing, f"README's settings table lacks {sorted(missing)}"


def test_db_reset_refuses_production_without_yes(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = tmp_path / "keep.db"
    database.write_bytes(b"")
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": LONG_SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
    }
    result = CliRunner().invoke(cli, ["db", "reset"], env=env)
    assert result.exit_code == 1
    assert "Refusing to reset a production database without --yes" in result.output
    assert database.read_bytes() == b""


def test_db_reset_with_yes_migrates_from_scratch(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": LONG_SECRET,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'reset.db'}",
    }
    result = CliRunner().invoke(cli, ["db", "reset", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert "database reset to the latest migration" in result.output


def test_serve_explains_a_weak_production_secret_and_does_not_start(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": "short",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
    }
    # Should the check ever break, the server fails at once on this taken port.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(cli, ["serve", "--port", port], env=env)
    assert result.exit_code == 2
    assert "Folio cannot start" in result.output
    assert "SECRET_KEY must be set" in result.output
    assert not (tmp_path / "serve.db").exists()


def test_serve_names_the_setting_that_is_out_of_range(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = {"DB_POOL_SIZE": "0", "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}"}
    result = CliRunner().invoke(cli, ["serve", "--port", "1"], env=env)
    assert result.exit_code == 2
    assert "Folio cannot start: DB_POOL_SIZE: Input should be greater than or equal to 1" in (
        result.output
    )

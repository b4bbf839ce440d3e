"""Folio's settings, read from the environment and `.env` by pydantic-settings."""

import contextlib
import os
import secrets
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "change-me-in-production"  # noqa: S105 - the known default we refuse
MIN_SECRET_KEY_LENGTH = 32


def kept_secret(path: Path) -> str:
    """The secret in `path`, made (random, readable by its owner only) when there is none.
    Processes starting together agree: the first to link its file in place wins."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(secrets.token_urlsafe(48))
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
        draft.unlink()
    return path.read_text().strip()


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ProviderName(StrEnum):
    TIINGO = "tiingo"
    POLYGON = "polygon"
    SIMULATED = "simulated"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite+aiosqlite:///./folio.db"
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=20, ge=0)
    db_pool_timeout: float = Field(default=5.0, gt=0)
    db_statement_timeout_ms: int = Field(default=15_000, ge=0)
    redis_url: str | None = None
    redis_max_connections: int = Field(default=200, ge=1)
    # Unset (or the known default) outside production: a random secret, made once and kept.
    secret_key: str = ""
    secret_key_file: Path = Path(".folio-secret")
    access_token_lifetime_seconds: int = Field(default=3600, ge=60)
    session_cache_seconds: float = Field(default=30.0, ge=0)
    cors_origins: Annotated[list[str], NoDecode] = ["http://localhost:5173"]
    # Proxies whose X-Forwarded-For names the client (sign-in throttling counts by address).
    forwarded_allow_ips: str = "127.0.0.1"
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_upload_bytes: int = Field(default=20_971_520, ge=1024)

    market_data_provider: ProviderName | None = None
    tiingo_api_key: str | None = None
    tiingo_base_url: str = "https://api.tiingo.com"
    tiingo_calls_per_minute: int = Field(default=50, ge=1)
    polygon_api_key: str | None = None
    polygon_base_url: str = "https://api.polygon.io"
    polygon_calls_per_minute: int = Field(default=5, ge=1)
    vendor_timeout_seconds: float = Field(default=10.0, gt=0)
    vendor_max_attempts: int = Field(default=4, ge=1)
    vendor_max_wait_seconds: float = Field(default=20.0, ge=0)
    vendor_backoff_base_seconds: float = Field(default=0.5, ge=0)
    vendor_backoff_max_seconds: float = Field(default=8.0, ge=0)
    vendor_max_response_bytes: int = Field(default=10_000_000, ge=1024)
    vendor_rate_window_seconds: float = Field(default=60.0, gt=0)
    market_lock_ttl_seconds: float = Field(default=30.0, gt=0)
    market_lock_poll_seconds: float = Field(default=0.05, gt=0)
    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_cooldown_seconds: float = Field(default=30.0, gt=0)
    cache_ttl_metadata_seconds: int = Field(default=86_400, ge=1)
    cache_ttl_quote_seconds: int = Field(default=15, ge=1)
    cache_ttl_last_close_max_seconds: int = Field(default=86_400, ge=1)
    cache_ttl_stale_seconds: int = Field(default=604_800, ge=1)

    first_superuser_email: str | None = None
    first_superuser_password: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "folio@localhost"

    risk_free_rate: Decimal = Decimal("0")
    # The paper broker's commission: a rate of each fill's value.
    paper_commission_rate: Decimal = Field(default=Decimal("0"), ge=0, lt=1)
    log_dir: Path | None = Path("logs")
    log_level: str = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _split_cors_origins(cls, data: dict[str, object]) -> dict[str, object]:
        for key in ("cors_origins", "CORS_ORIGINS"):
            value = data.get(key) if isinstance(data, dict) else None
            if isinstance(value, str):
                data[key] = [o.strip() for o in value.split(",") if o.strip()]
        return data

    @field_validator("log_dir", mode="before")
    @classmethod
    def _empty_log_dir_means_no_files(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _strong_secret(self) -> Self:
        """Production refuses a missing, default or short secret; elsewhere a missing or
        default one is replaced by a random secret kept in `secret_key_file`, so that no
        one can sign a token with a key they could guess."""
        unset = self.secret_key in ("", DEFAULT_SECRET_KEY)
        if self.environment is Environment.PRODUCTION:
            if unset or len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
                raise ValueError(
                    "SECRET_KEY must be set to a random value of at least "
                    f"{MIN_SECRET_KEY_LENGTH} characters in production "
                    '(for example: python -c "import secrets; print(secrets.token_urlsafe(48))")'
                )
        elif unset:
            self.secret_key = kept_secret(self.secret_key_file)
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @property
    def selected_provider(self) -> ProviderName:
        if self.market_data_provider is not None:
            return self.market_data_provider
        if self.tiingo_api_key:
            return ProviderName.TIINGO
        if self.polygon_api_key:
            return ProviderName.POLYGON
        return ProviderName.SIMULATED


@lru_cache
def get_settings() -> Settings:
    return Settings()

"""What every command shares: settings that explain themselves when they are wrong."""

import typer
from pydantic import ValidationError

from app.core.config import Settings, get_settings


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            typer.secho(f"Folio cannot start: {error['msg']}", fg="red", err=True)
        raise typer.Exit(2) from exc

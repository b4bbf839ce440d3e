"""`folio openapi`: the OpenAPI document, the same whatever the settings (the dashboard's
typed client is generated from it)."""

import json
import sys
from pathlib import Path

import typer

from app.core.config import Settings
from app.main import create_app


def document() -> str:
    schema = create_app(Settings(_env_file=None, secret_key="x" * 48)).openapi()  # type: ignore[call-arg]
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def openapi(
    output: Path | None = typer.Argument(None, dir_okay=False, help="Default: standard output."),
) -> None:
    """Write Folio's OpenAPI document as JSON."""
    text = document()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")

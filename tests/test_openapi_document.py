"""The OpenAPI document the dashboard's typed client is generated from is the app's own:
after a change of the API, `folio openapi web/openapi.json` (and `npm run generate` in web/)."""

from pathlib import Path

from app.cli.openapi import document

COMMITTED = Path(__file__).resolve().parents[1] / "web" / "openapi.json"


def test_the_committed_openapi_document_is_current() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == document(), (
        "web/openapi.json is behind the API: run `folio openapi web/openapi.json` and "
        "`npm run generate` in web/"
    )

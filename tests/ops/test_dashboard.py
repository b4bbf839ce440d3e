"""The dashboard's files under /app: the page never cached and answering every deep link,
hashed assets cached for a year, nothing outside them served, and no API path shadowed."""

from pathlib import Path

import pytest
from httpx import AsyncClient

from app import dashboard


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    (tmp_path / "assets" / "index-3f9a.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not an asset")
    monkeypatch.setattr(dashboard, "DIST", tmp_path)
    return tmp_path


async def test_without_a_build_the_page_says_how_to_make_one(
    client: AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dashboard, "DIST", tmp_path / "missing")
    response = await client.get("/app")
    assert response.status_code == 503
    assert "make web" in response.text and response.headers["cache-control"] == "no-cache"


async def test_the_page_answers_deep_links_and_assets_are_immutable(
    client: AsyncClient, built: Path
) -> None:
    for path in ("/app", "/app/", "/app/portfolios/growth/positions", "/app/admin/audit"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert page.text.startswith("<!doctype html>")
        assert page.headers["cache-control"] == "no-cache"
    asset = await client.get("/app/assets/index-3f9a.js")
    assert asset.text == "console.log(1)"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_nothing_but_assets_is_served_and_the_api_is_not_shadowed(
    client: AsyncClient, built: Path
) -> None:
    for path in (
        "/app/assets/missing.js",
        "/app/assets/..%2Fsecret.txt",
        "/app/assets/%2e%2e/secret.txt",
        "/app/assets/",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "asset_not_found"
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/portfolios")).status_code == 401
    assert (await client.get("/application")).status_code == 404

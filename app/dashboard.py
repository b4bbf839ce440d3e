"""The web dashboard (web/, built into web/dist/) served under /app.

Hashed assets are cached for a year; the page itself never is, and every deep link under
/app answers it, so the dashboard's own router takes over. Without a build, /app says how
to make one: the API, /docs and the CLI never need Node.
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from app.core.errors import NotFound

DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
PAGE_CACHE = {"Cache-Control": "no-cache"}
ASSET_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Folio</title></head>
<body><h1>The dashboard is not built</h1>
<p>Build it once with Node 20 or later: <code>make web</code>
(or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>), then reload.
<code>make run</code> builds it when Node is present.</p>
<p>The API works without it: <a href="/docs">/docs</a>.</p></body></html>
"""

router = APIRouter(include_in_schema=False)


class AssetNotFound(NotFound):
    code = "asset_not_found"
    message = "No such file of the dashboard."


@router.get("/app")
@router.get("/app/{path:path}")
async def dashboard(path: str = "") -> Response:
    if path.startswith("assets/"):
        return FileResponse(_asset(path), headers=ASSET_CACHE)
    page = DIST / "index.html"
    if not page.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503, headers=PAGE_CACHE)
    return FileResponse(page, headers=PAGE_CACHE)


def _asset(path: str) -> Path:
    found = (DIST / path).resolve()
    if not found.is_relative_to(DIST / "assets") or not found.is_file():
        raise AssetNotFound(details={"path": path})
    return found

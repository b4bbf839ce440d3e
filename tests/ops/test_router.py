import re

from httpx import AsyncClient


async def test_health_answers_with_request_id_and_process_time(client: AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert float(response.headers["X-Process-Time"]) >= 0


async def test_client_request_id_is_kept(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "dashboard-42"})
    assert response.headers["X-Request-ID"] == "dashboard-42"


async def test_unsafe_client_request_id_is_replaced(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "a b\tc"})
    assert response.headers["X-Request-ID"] != "a b\tc"


async def test_readiness_reports_every_dependency(client: AsyncClient) -> None:
    body = (await client.get("/health/ready")).json()
    assert body["status"] == "ready"
    assert body["database"] == {"status": "up", "backend": "postgresql", "detail": None}
    assert body["cache"]["backend"] == "redis" and body["cache"]["status"] == "up"
    assert body["market_data"]["backend"] == "simulated"


async def test_docs_are_served_without_any_other_host(client: AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = (await client.get(page)).text
        assets = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert assets, page
        assert all(a.startswith("/") for a in assets), assets
        for asset in assets:
            assert (await client.get(asset)).status_code == 200, asset
        assert "cdn" not in html.lower()


async def test_metrics_are_prometheus_text(client: AsyncClient) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert 'folio_http_requests_total{method="GET",route="/health",status="200"}' in response.text


async def test_inspiration_gives_a_quote(client: AsyncClient) -> None:
    body = (await client.get("/inspiration")).json()
    assert body["quote"] and body["author"]


async def test_unknown_route_gets_the_error_envelope(client: AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

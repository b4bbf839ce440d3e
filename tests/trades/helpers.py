"""Request helpers for the trade and cash tests."""

from typing import Any

from httpx import AsyncClient, Response


def trade(
    ticker: str = "AAPL",
    side: str = "buy",
    quantity: str = "10",
    price: str = "100",
    fees: str = "0",
    trade_date: str = "2026-01-05",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "ticker": ticker,
        "side": side,
        "quantity": quantity,
        "price": price,
        "fees": fees,
        "trade_date": trade_date,
        **extra,
    }


async def book(client: AsyncClient, slug: str, headers: dict[str, str], **fields: Any) -> Response:
    return await client.post(f"/portfolios/{slug}/trades", json=trade(**fields), headers=headers)


async def deposit(
    client: AsyncClient, slug: str, headers: dict[str, str], amount: str, on: str = "2026-01-02"
) -> Response:
    body = {"type": "deposit", "amount": amount, "date": on}
    return await client.post(f"/portfolios/{slug}/cash", json=body, headers=headers)


async def positions(client: AsyncClient, slug: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(
        f"/portfolios/{slug}/positions?include_closed=true&limit=500", headers=headers
    )
    assert response.status_code == 200, response.text
    return {p["ticker"]: p for p in response.json()["items"]}

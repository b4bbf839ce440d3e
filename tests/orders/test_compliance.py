"""The pre-trade check against a portfolio's policy, by the check route and by placing."""

from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from tests.orders.helpers import TICKER, Desk, make_desk, order

HARD_5 = {"max_position_weight": {"limit": "0.05", "severity": "hard"}}
SOFT_5 = {"max_position_weight": {"limit": "0.05", "severity": "soft"}}


async def put_policy(client: AsyncClient, desk: Desk, policy: dict[str, Any]) -> None:
    response = await client.put(f"/portfolios/{desk.slug}/policy", json=policy, headers=desk.pm)
    assert response.status_code == 200, response.text


def rule(check: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in check["results"] if r["rule"] == name)


async def test_a_buy_from_4_8_to_5_2_percent_breaks_a_5_percent_hard_limit(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session)
    await put_policy(client, desk, HARD_5)
    url = f"/portfolios/{desk.slug}/orders"

    checked = await client.post(f"{url}/check", json=order(), headers=desk.analyst)
    assert checked.status_code == 200, checked.text
    check = checked.json()
    assert check["pass"] is False and check["hard_breach"] is True
    assert rule(check, "max_position_weight") == {
        "rule": "max_position_weight",
        "severity": "hard",
        "observed": "0.052",
        "limit": "0.05",
        "pass": False,
    }
    smaller = await client.post(f"{url}/check", json=order(quantity="2"), headers=desk.analyst)
    assert smaller.json()["pass"] is True
    assert rule(smaller.json(), "max_position_weight")["observed"] == "0.05"

    placed = await client.post(url, json=order(client_order_id="a1"), headers=desk.analyst)
    assert placed.status_code == 201, placed.text
    denied = placed.json()
    assert denied["status"] == "denied" and denied["checks"]["hard_breach"] is True
    events = await client.get(f"{url}/{denied['id']}/events", headers=desk.analyst)
    assert [e["type"] for e in events.json()["items"]] == ["placed", "denied"]
    # denied is final: nothing moves it, and the answer names what would have been allowed
    again = await client.post(f"{url}/{denied['id']}/cancel", headers=desk.pm)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "illegal_transition"
    assert again.json()["error"]["details"]["allowed"] == []
    override = await client.post(
        f"{url}/{denied['id']}/override", json={"reason": "committee"}, headers=desk.pm
    )
    assert override.status_code == 409
    positions = await client.get(f"/portfolios/{desk.slug}/positions", headers=desk.pm)
    assert [p["quantity"] for p in positions.json()["items"]] == ["48"]


async def test_a_soft_breach_waits_for_the_pm_s_override_with_a_reason(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session)
    await put_policy(client, desk, SOFT_5)
    url = f"/portfolios/{desk.slug}/orders"

    held = (await client.post(url, json=order(), headers=desk.analyst)).json()
    assert held["status"] == "pending_approval" and held["checks"]["soft_breach"] is True
    by_analyst = await client.post(
        f"{url}/{held['id']}/override", json={"reason": "mine"}, headers=desk.analyst
    )
    assert by_analyst.status_code == 403
    no_reason = await client.post(f"{url}/{held['id']}/override", json={}, headers=desk.pm)
    assert no_reason.status_code == 422
    overridden = await client.post(
        f"{url}/{held['id']}/override", json={"reason": "committee approved"}, headers=desk.pm
    )
    assert overridden.status_code == 200, overridden.text
    assert overridden.json()["status"] == "accepted"
    assert overridden.json()["broker_order_id"] == f"paper-{held['id']}"
    events = (await client.get(f"{url}/{held['id']}/events", headers=desk.pm)).json()["items"]
    assert [e["type"] for e in events] == ["placed", "held", "overridden"]
    assert events[2]["data"]["reason"] == "committee approved"
    assert events[2]["by"] == str(desk.pm_id)
    audited = await session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "order", AuditEvent.object_id == str(held["id"])
        )
    )
    assert list(audited) == ["order.placed", "order.held", "order.overridden"]

    # the analyst cannot override in the request; the PM can, and the reason is kept
    refused = await client.post(url, json=order(override_reason="please"), headers=desk.analyst)
    assert refused.status_code == 403
    at_once = await client.post(url, json=order(override_reason="rebalance"), headers=desk.pm)
    assert at_once.json()["status"] == "accepted"


async def test_an_override_checks_again_and_a_hard_breach_now_denies(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session)
    await put_policy(client, desk, SOFT_5)
    url = f"/portfolios/{desk.slug}/orders"
    held = (await client.post(url, json=order(), headers=desk.pm)).json()
    await put_policy(client, desk, HARD_5)
    denied = await client.post(
        f"{url}/{held['id']}/override", json={"reason": "late"}, headers=desk.pm
    )
    assert denied.json()["status"] == "denied"


async def test_every_rule_reports_what_it_observed(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session)
    policy = {
        "max_sector_weight": {"limit": "0.30", "severity": "soft"},
        "cash_band": {"limit": {"min": "0.02", "max": "0.97"}, "severity": "soft"},
        "restricted_tickers": {"limit": ["XYZ", TICKER.lower(), "xyz"], "severity": "hard"},
        "max_order_notional": {"limit": "50000", "severity": "hard"},
        "price_band": {"limit": "0.10", "severity": "soft"},
    }
    await put_policy(client, desk, policy)
    stored = (await client.get(f"/portfolios/{desk.slug}/policy", headers=desk.analyst)).json()
    assert stored["restricted_tickers"]["limit"] == ["XYZ", TICKER]
    assert stored["max_position_weight"] is None

    body = order(type="limit", limit_price="115", quantity="500")
    check = (
        await client.post(f"/portfolios/{desk.slug}/orders/check", json=body, headers=desk.analyst)
    ).json()
    observed = {r["rule"]: (r["observed"], r["pass"]) for r in check["results"]}
    # 500 at the 115 limit: 57,500 out of the cash, 50,000 in at the 100 close, so a NAV of
    # 92,500 with 548 x 100 in the (unclassified) sector and 37,700 of cash
    assert observed == {
        "max_sector_weight": ("0.5924324324", False),
        "cash_band": ("0.4075675676", True),
        "restricted_tickers": (TICKER, False),
        "max_order_notional": ("57500", False),
        "price_band": ("0.15", False),
        "allow_short": ("548", True),
        "allow_negative_cash": ("37700", True),
    }
    assert check["hard_breach"] and check["soft_breach"] and not check["pass"]
    # selling a restricted ticker is allowed; selling short is not, and is always hard
    sell = order(side="sell", quantity="60")
    check = (
        await client.post(f"/portfolios/{desk.slug}/orders/check", json=sell, headers=desk.analyst)
    ).json()
    assert rule(check, "restricted_tickers")["pass"] is False
    assert rule(check, "allow_short") == {
        "rule": "allow_short",
        "severity": "hard",
        "observed": "-12",
        "limit": "0",
        "pass": False,
    }
    everything = order(side="sell", quantity="48.00000000")
    url = f"/portfolios/{desk.slug}/orders/check"
    check = (await client.post(url, json=everything, headers=desk.analyst)).json()
    assert rule(check, "allow_short") | {"severity": None} == {
        "rule": "allow_short",
        "severity": None,
        "observed": "0",
        "limit": "0",
        "pass": True,
    }


async def test_the_policy_is_the_pm_s_and_hidden_from_outsiders(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session)
    url = f"/portfolios/{desk.slug}/policy"
    assert (await client.put(url, json=HARD_5, headers=desk.analyst)).status_code == 403
    assert (await client.get(url, headers=desk.outsider)).status_code == 404
    assert (await client.put(url, json=HARD_5, headers=desk.outsider)).status_code == 404
    # a bracket's prices rise from the stop-loss through the limit to the take-profit
    upside_down = order(
        type="limit", limit_price="100", order_class="bracket", take_profit={"limit_price": "95"}
    )
    refused = await client.post(
        f"/portfolios/{desk.slug}/orders", json=upside_down, headers=desk.pm
    )
    assert refused.status_code == 422
    leg_like = order(client_order_id="a:stop_loss")  # a colon names Folio's own orders
    refused = await client.post(f"/portfolios/{desk.slug}/orders", json=leg_like, headers=desk.pm)
    assert refused.status_code == 422
    bad = await client.put(url, json={"max_position_weight": {"limit": "2"}}, headers=desk.pm)
    assert bad.status_code == 422
    unknown = await client.put(url, json={"max_leverage": {"limit": "2"}}, headers=desk.pm)
    assert unknown.status_code == 422
    await put_policy(client, desk, HARD_5)
    changes = await session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "policy.update", AuditEvent.object_id == str(desk.portfolio_id)
        )
    )
    [change] = changes
    assert change.before == {} and change.after == HARD_5
    orders = f"/portfolios/{desk.slug}/orders"
    assert (await client.post(orders, json=order(), headers=desk.outsider)).status_code == 404
    assert (await client.get(orders, headers=desk.outsider)).status_code == 404

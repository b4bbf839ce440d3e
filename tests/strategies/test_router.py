"""The strategies' HTTP contract: create, read, change, delete; parameters checked per kind;
signals' status; events; who may do what."""

from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from tests.factories import bearer, make_portfolio, make_team, make_user
from tests.strategies.helpers import (
    DAYS,
    all_items,
    analyst_headers,
    closes,
    create_strategy,
    store_bars,
)

SMA = {"kind": "sma_cross", "params": {"fast": 5, "slow": 20}}


@pytest.fixture
async def stored(session: AsyncSession) -> None:
    await store_bars(session, "TSTA", closes(1))
    await store_bars(session, "TSTB", closes(2))


async def evaluate_all(client: AsyncClient, headers: dict[str, str], strategy_id: int) -> None:
    body = {"start": DAYS[0].isoformat(), "end": DAYS[-1].isoformat()}
    response = await client.post(f"/strategies/{strategy_id}/evaluate", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["signals"] > 0


def error_of(response: Any) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    return error


async def test_a_strategy_is_created_with_its_settings_and_read_back(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    created = await create_strategy(
        client,
        headers,
        **SMA,
        tickers=["tsta", "TSTB", "TSTA"],
        description="fast over slow",
        sizing={"type": "percent_nav", "value": "5.5"},
        stop_loss_pct="8",
        take_profit_pct=20,
        auto_trade=True,
    )
    assert created["tickers"] == ["TSTA", "TSTB"]
    assert created["params"] == {"fast": 5, "slow": 20}
    assert created["sizing"] == {"type": "percent_nav", "value": "5.5"}
    assert (created["stop_loss_pct"], created["take_profit_pct"]) == ("8", "20")
    assert created["active"] is True and created["auto_trade"] is True
    assert created["portfolio"] is None
    read = await client.get(f"/strategies/{created['id']}", headers=headers)
    assert read.status_code == 200 and read.json() == created
    listed = await all_items(client, "/strategies", headers)
    assert [s["id"] for s in listed] == [created["id"]]
    [event] = await all_items(client, f"/strategies/{created['id']}/events", headers)
    assert event["type"] == "created" and event["metadata"]["after"]["params"] == SMA["params"]


@pytest.mark.parametrize(
    ("kind", "params", "says"),
    [
        ("sma_cross", {"fast": 30, "slow": 10}, "fast (30) must be less than slow (10)"),
        ("ema_cross", {"fast": 10, "slow": 10}, "fast (10) must be less than slow (10)"),
        ("sma_cross", {"fast": 0, "slow": 10}, "fast must be a whole number from 1"),
        ("sma_cross", {"fast": 5.5, "slow": 10}, "fast must be a whole number"),
        ("sma_cross", {"fast": True, "slow": 10}, "fast must be a whole number"),
        ("sma_cross", {"fast": "5", "slow": 10}, "fast must be a whole number"),
        ("sma_cross", {"fast": 5}, "missing slow"),
        ("sma_cross", {"fast": 5, "slow": 10, "signal": 9}, "unknown parameter signal"),
        ("macd_cross", {"fast": 26, "slow": 12, "signal": 9}, "fast (26) must be less than"),
        ("macd_cross", {"fast": 12, "slow": 26, "signal": 0}, "signal must be a whole number"),
        ("rsi_threshold", {"period": 14, "lower": 70, "upper": 30}, "0 < lower < upper < 100"),
        ("rsi_threshold", {"period": 14, "lower": 0, "upper": 70}, "0 < lower < upper < 100"),
        ("rsi_threshold", {"period": 14, "lower": 30, "upper": 100}, "0 < lower < upper < 100"),
        ("rsi_threshold", {"period": 1, "lower": 30, "upper": 70}, "rsi_1: the period must be"),
        ("rsi_threshold", {"period": 14, "lower": "30", "upper": 70}, "lower must be a number"),
        ("bollinger_reversion", {"period": 20, "k": 0}, "k (0) must be above 0"),
        ("bollinger_reversion", {"period": 20, "k": -1.5}, "k (-1.5) must be above 0"),
        ("bollinger_reversion", {"period": 0, "k": 2}, "period must be a whole number"),
    ],
)
async def test_parameters_are_checked_for_their_kind(
    app: FastAPI,
    session: AsyncSession,
    client: AsyncClient,
    stored: None,
    kind: str,
    params: dict[str, Any],
    says: str,
) -> None:
    headers = await analyst_headers(app, session)
    body = {"name": "bad", "kind": kind, "params": params, "tickers": ["TSTA"]}
    response = await client.post("/strategies", json=body, headers=headers)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_strategy_params" and says in error["message"]
    assert error["details"]["kind"] == kind


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "moon_phase"},
        {"tickers": []},
        {"stop_loss_pct": "0"},
        {"take_profit_pct": "100"},
        {"sizing": {"type": "fixed_quantity"}},
        {"sizing": {"type": "all_cash", "value": "3"}},
        {"sizing": {"type": "percent_nav", "value": "101"}},
        {"active": "yes"},
        {"colour": "blue"},
    ],
)
async def test_malformed_settings_are_refused(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None, fields: dict[str, Any]
) -> None:
    headers = await analyst_headers(app, session)
    body = {"name": "bad", **SMA, "tickers": ["TSTA"]} | fields
    response = await client.post("/strategies", json=body, headers=headers)
    assert response.status_code == 422 and error_of(response)["code"] == "validation_error"


async def test_tickers_unknown_to_the_provider_are_named(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    body = {"name": "s", **SMA, "tickers": ["TSTA", "NOPE9X", "NOPE8X"]}
    response = await client.post("/strategies", json=body, headers=headers)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "unknown_ticker" and error["details"]["tickers"] == ["NOPE8X", "NOPE9X"]
    assert "NOPE8X, NOPE9X" in error["message"]


async def test_a_name_is_taken_once(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    await create_strategy(client, headers, name="Twice", **SMA, tickers=["TSTA"])
    response = await client.post(
        "/strategies", json={"name": "Twice", **SMA, "tickers": ["TSTA"]}, headers=headers
    )
    assert response.status_code == 409 and error_of(response)["code"] == "strategy_exists"


async def test_a_portfolio_is_linked_only_by_those_who_may_trade_in_it(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    team = await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    fund = await make_portfolio(session, pm, team=team)
    member = await bearer(app, await make_user(session, Role.ANALYST, team=team))
    outsider = await bearer(app, await make_user(session, Role.ANALYST))
    body = {**SMA, "tickers": ["TSTA"], "portfolio": fund.slug}
    hidden = await client.post("/strategies", json={"name": "a", **body}, headers=outsider)
    assert hidden.status_code == 404 and error_of(hidden)["code"] == "portfolio_not_found"
    linked = await create_strategy(client, member, **body)
    assert linked["portfolio"] == fund.slug
    url = f"/strategies/{linked['id']}"
    taken = await client.patch(url, json={"portfolio": fund.slug}, headers=outsider)
    assert taken.status_code == 404
    cleared = await client.patch(url, json={"portfolio": None}, headers=member)
    assert cleared.status_code == 200 and cleared.json()["portfolio"] is None


async def test_a_linked_portfolio_is_hidden_from_outsiders_and_guards_the_strategy(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    team = await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    fund = await make_portfolio(session, pm, team=team)
    member = await bearer(app, await make_user(session, Role.ANALYST, team=team))
    outsider = await bearer(app, await make_user(session, Role.ANALYST))
    linked = await create_strategy(client, member, **SMA, tickers=["TSTA"], portfolio=fund.slug)
    url = f"/strategies/{linked['id']}"
    seen = (await client.get(url, headers=outsider)).json()
    listed = await all_items(client, "/strategies", outsider)
    assert seen["portfolio"] is None and [s["portfolio"] for s in listed] == [None]
    [created] = await all_items(client, f"{url}/events", outsider)
    assert created["metadata"]["after"]["portfolio_id"] is None
    [created] = await all_items(client, f"{url}/events", member)
    assert created["metadata"]["after"]["portfolio_id"] == str(fund.id)
    evaluate = {"start": "2023-01-03", "end": "2023-02-01"}
    refused = [
        await client.patch(url, json={"auto_trade": True}, headers=outsider),
        await client.post(f"{url}/evaluate", json=evaluate, headers=outsider),
        await client.delete(url, headers=outsider),
    ]
    assert [(r.status_code, error_of(r)["code"]) for r in refused] == [
        (404, "portfolio_not_found")
    ] * 3
    assert (await client.get(url, headers=member)).json()["auto_trade"] is False
    assert (await client.post(f"{url}/evaluate", json=evaluate, headers=member)).status_code == 200


async def test_an_update_of_kind_or_params_is_an_event_with_before_and_after(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    created = await create_strategy(client, headers, **SMA, tickers=["TSTA"], stop_loss_pct="5")
    url = f"/strategies/{created['id']}"
    change = {"kind": "ema_cross", "params": {"fast": 8, "slow": 21}, "stop_loss_pct": None}
    response = await client.patch(url, json=change | {"name": None}, headers=headers)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["kind"] == "ema_cross" and updated["params"] == {"fast": 8, "slow": 21}
    assert updated["stop_loss_pct"] is None and updated["name"] == created["name"]
    event = (await all_items(client, f"{url}/events", headers))[0]
    assert event["type"] == "updated"
    assert event["metadata"]["before"] == {
        "kind": "sma_cross",
        "params": {"fast": 5, "slow": 20},
        "stop_loss_pct": "5",
    }
    assert event["metadata"]["after"] == {
        "kind": "ema_cross",
        "params": {"fast": 8, "slow": 21},
        "stop_loss_pct": None,
    }
    wrong = await client.patch(url, json={"kind": "macd_cross"}, headers=headers)
    assert wrong.status_code == 422 and "missing signal" in error_of(wrong)["message"]
    unchanged = await client.patch(url, json={"description": ""}, headers=headers)
    assert unchanged.status_code == 200
    assert len(await all_items(client, f"{url}/events", headers)) == 2  # created, updated


async def test_deactivating_and_activating_are_events(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    created = await create_strategy(client, headers, **SMA, tickers=["TSTA"])
    url = f"/strategies/{created['id']}"
    off = await client.patch(url, json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.json()["active"] is False
    on = await client.patch(url, json={"active": True}, headers=headers)
    assert on.json()["active"] is True
    events = await all_items(client, f"{url}/events", headers)
    assert [e["type"] for e in events] == ["activated", "deactivated", "created"]


async def test_a_strategy_with_signals_is_not_deleted(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    used = await create_strategy(client, headers, **SMA, tickers=["TSTA"])
    unused = await create_strategy(client, headers, **SMA, tickers=["TSTA"])
    await evaluate_all(client, headers, used["id"])
    refused = await client.delete(f"/strategies/{used['id']}", headers=headers)
    assert refused.status_code == 409 and error_of(refused)["code"] == "strategy_has_signals"
    deleted = await client.delete(f"/strategies/{unused['id']}", headers=headers)
    assert deleted.status_code == 204
    gone = await client.get(f"/strategies/{unused['id']}", headers=headers)
    assert gone.status_code == 404 and error_of(gone)["code"] == "strategy_not_found"


async def test_signals_are_filtered(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    created = await create_strategy(client, headers, **SMA, tickers=["TSTA", "TSTB"])
    await evaluate_all(client, headers, created["id"])
    url = f"/strategies/{created['id']}/signals"
    every = await all_items(client, url, headers)
    middle = DAYS[len(DAYS) // 2].isoformat()
    cases: list[tuple[dict[str, str], Any]] = [
        ({"ticker": "tstb"}, lambda s: s["ticker"] == "TSTB"),
        ({"type": "SELL"}, lambda s: s["type"] == "SELL"),
        ({"start": middle}, lambda s: s["date"] >= middle),
        ({"end": middle, "type": "BUY"}, lambda s: s["date"] <= middle and s["type"] == "BUY"),
        ({"status": "acted"}, lambda s: False),
    ]
    for params, keep in cases:
        response = await client.get(url, params=params | {"limit": 500}, headers=headers)
        assert response.status_code == 200
        assert response.json()["items"] == [s for s in every if keep(s)], params
    page = await client.get(url, params={"limit": 2, "offset": 1}, headers=headers)
    assert page.json()["items"] == every[1:3] and page.json()["total"] == len(every)


async def test_a_new_signal_is_acted_or_ignored_once(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    created = await create_strategy(client, headers, **SMA, tickers=["TSTA"])
    await evaluate_all(client, headers, created["id"])
    first, second = (await all_items(client, f"/strategies/{created['id']}/signals", headers))[:2]
    acted = await client.patch(f"/signals/{first['id']}", json={"status": "acted"}, headers=headers)
    assert acted.status_code == 200 and acted.json() == first | {"status": "acted"}
    for status in ("ignored", "acted"):
        again = await client.patch(
            f"/signals/{first['id']}", json={"status": status}, headers=headers
        )
        assert again.status_code == 409
        assert error_of(again)["code"] == "illegal_signal_status"
    ignored = await client.patch(
        f"/signals/{second['id']}", json={"status": "ignored"}, headers=headers
    )
    assert ignored.json()["status"] == "ignored"
    expired = await client.patch(
        f"/signals/{second['id']}", json={"status": "expired"}, headers=headers
    )
    assert expired.status_code == 422
    missing = await client.patch("/signals/999999999", json={"status": "acted"}, headers=headers)
    assert missing.status_code == 404 and error_of(missing)["code"] == "signal_not_found"


async def test_a_viewer_reads_strategies_and_signals_but_cannot_change_them(
    app: FastAPI, session: AsyncSession, client: AsyncClient, stored: None
) -> None:
    headers = await analyst_headers(app, session)
    viewer = await bearer(app, await make_user(session, Role.VIEWER))
    created = await create_strategy(client, headers, **SMA, tickers=["TSTA"])
    await evaluate_all(client, headers, created["id"])
    url = f"/strategies/{created['id']}"
    for path in ("/strategies", url, f"{url}/signals", f"{url}/events"):
        assert (await client.get(path, headers=viewer)).status_code == 200, path
    [signal] = (await client.get(f"{url}/signals", params={"limit": 1}, headers=viewer)).json()[
        "items"
    ]
    attempts = [
        ("POST", "/strategies", {"name": "v", **SMA, "tickers": ["TSTA"]}),
        ("PATCH", url, {"active": False}),
        ("DELETE", url, None),
        ("POST", f"{url}/evaluate", {"start": "2023-01-03", "end": "2023-02-01"}),
        ("PATCH", f"/signals/{signal['id']}", {"status": "acted"}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=viewer)
        assert response.status_code == 403, (method, path)
        assert error_of(response)["code"] == "permission_denied"


async def test_unknown_ids_are_not_found_and_ids_out_of_range_are_refused(
    app: FastAPI, session: AsyncSession, client: AsyncClient
) -> None:
    headers = await analyst_headers(app, session)
    for path in ("/strategies/2147483647", "/strategies/7/signals", "/strategies/7/events"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404 and error_of(response)["code"] == "strategy_not_found"
    for path in ("/strategies/0", "/strategies/2147483648", "/strategies/1e3"):
        assert (await client.get(path, headers=headers)).status_code == 422, path

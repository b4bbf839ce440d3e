"""The paper broker: working orders filled on stored bars by the rules of PRODUCT.md, each
fill booked through the ledger, nothing booked twice."""

from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.orders.helpers import DAYS, TICKER, Desk, make_desk, place_on, run_paper

D = DAYS


async def read(client: AsyncClient, desk: Desk, order_id: int) -> dict[str, Any]:
    response = await client.get(f"/portfolios/{desk.slug}/orders/{order_id}", headers=desk.pm)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def events(client: AsyncClient, desk: Desk, order_id: int) -> list[dict[str, Any]]:
    url = f"/portfolios/{desk.slug}/orders/{order_id}/events"
    items: list[dict[str, Any]] = (await client.get(url, headers=desk.pm)).json()["items"]
    return items


async def holding(client: AsyncClient, desk: Desk) -> tuple[str, str]:
    positions = (await client.get(f"/portfolios/{desk.slug}/positions", headers=desk.pm)).json()
    cash = (await client.get(f"/portfolios/{desk.slug}", headers=desk.pm)).json()["cash_balance"]
    return positions["items"][0]["quantity"], cash


async def test_a_market_order_fills_at_the_next_open_once(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session, changes={D[6]: (101, 104, 96, 100)})
    placed = await place_on(app, desk, D[5])
    assert placed.status == "accepted"
    # a trade booked by hand under the fill's future execution id does not get in the way
    by_hand = {
        "ticker": TICKER,
        "side": "buy",
        "quantity": "1",
        "price": "1",
        "trade_date": D[1].isoformat(),
        "external_id": f"paper-{placed.id}-{D[6]}",
    }
    booked = await client.post(f"/portfolios/{desk.slug}/trades", json=by_hand, headers=desk.pm)
    assert booked.status_code == 201, booked.text

    ran = await run_paper(app, D[10], rate="0.001")
    assert (ran.fills, ran.expired, ran.rejected) == (1, 0, 0)
    filled = await read(client, desk, placed.id)
    assert filled["status"] == "filled" and filled["filled_quantity"] == "4"
    assert filled["filled_avg_price"] == "101"
    fill = (await events(client, desk, placed.id))[-1]
    assert fill["type"] == "fill"
    assert fill["data"] | {"trade_id": None} == {
        "execution_id": f"paper-{placed.id}-{D[6]}",
        "date": D[6].isoformat(),
        "quantity": "4",
        "price": "101",
        "commission": "0.404",
        "trade_id": None,
    }
    trade = await client.get(
        f"/portfolios/{desk.slug}/trades/{fill['data']['trade_id']}", headers=desk.pm
    )
    assert trade.json()["trade_date"] == D[6].isoformat() and trade.json()["fees"] == "0.404"
    assert await holding(client, desk) == ("53", str(Decimal("95199") - 404 - Decimal("0.404")))
    # the fill's trade stays with its order
    refused = await client.post(
        f"/portfolios/{desk.slug}/trades/{fill['data']['trade_id']}/cancel",
        json={"reason": "oops"},
        headers=desk.pm,
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "trade_of_an_order"

    again = await run_paper(app, D[12], rate="0.001")
    assert again.fills == 0
    over_http = await client.post("/broker/paper/run", headers=desk.analyst)  # to the last close
    assert over_http.status_code == 200, over_http.text
    assert over_http.json()["fills"] == 0
    trades = await client.get(f"/portfolios/{desk.slug}/trades", headers=desk.pm)
    assert trades.json()["total"] == 3


async def test_limit_stop_and_stop_limit_orders_fill_by_the_bar(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    # every bar opens 100, reaches 104 and 96, but D[6] gaps up: 106 to 108
    desk = await make_desk(app, client, session, changes={D[6]: (106, 108, 105, 107)})
    buy_limit = await place_on(
        app, desk, D[5], type="limit", limit_price="105.5", time_in_force="gtc"
    )
    buy_stop = await place_on(app, desk, D[5], type="stop", stop_price="103")
    never = await place_on(app, desk, D[5], type="limit", limit_price="95")
    waiting = await place_on(app, desk, D[5], type="limit", limit_price="95", time_in_force="gtc")
    stop_limit = await place_on(
        app, desk, D[5], type="stop_limit", stop_price="103", limit_price="102", time_in_force="gtc"
    )
    sell_limit = await place_on(app, desk, D[6], side="sell", type="limit", limit_price="103")

    await run_paper(app, D[8])
    price = {
        o.id: (await read(client, desk, o.id))
        for o in (buy_limit, buy_stop, never, waiting, stop_limit, sell_limit)
    }
    # the better of the open and the limit: the gap opened at 106, the low reached 105
    assert price[buy_limit.id]["filled_avg_price"] == "105.5"
    # the worse of the open and the stop: the gap opened above it
    assert price[buy_stop.id]["filled_avg_price"] == "106"
    assert price[never.id]["status"] == "expired"  # a day order: its one bar went by
    assert price[waiting.id]["status"] == "accepted"  # good till cancelled
    # armed at 106 on the gap, beyond its 102 limit; on D[7] it fills as a limit at the open
    assert price[stop_limit.id]["filled_avg_price"] == "100"
    # a sell limit: the better of the open (100) and the limit, once the high reaches it
    assert price[sell_limit.id]["filled_avg_price"] == "103"
    fills = {
        o: [e["data"]["date"] for e in await events(client, desk, o) if e["type"] == "fill"]
        for o in (stop_limit.id, sell_limit.id)
    }
    assert fills == {stop_limit.id: [D[7].isoformat()], sell_limit.id: [D[7].isoformat()]}


async def test_a_bracket_arms_its_legs_and_the_first_to_fill_cancels_the_other(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    changes = {D[8]: (100, 111, 95, 100), D[9]: (100, 120, 80, 100)}
    desk = await make_desk(app, client, session, changes=changes)
    parent = await place_on(
        app,
        desk,
        D[5],
        order_class="bracket",
        take_profit={"limit_price": "110"},
        stop_loss={"stop_price": "90"},
    )
    assert [(leg.leg, leg.status) for leg in parent.legs] == [
        ("stop_loss", "new"),
        ("take_profit", "new"),
    ]
    both = await place_on(
        app,
        desk,
        D[7],
        order_class="bracket",
        take_profit={"limit_price": "115"},
        stop_loss={"stop_price": "85"},
    )

    await run_paper(app, D[10])
    first = await read(client, desk, parent.id)
    assert first["status"] == "filled"
    stop, profit = first["legs"]
    assert profit["status"] == "filled" and profit["filled_avg_price"] == "110"
    assert stop["status"] == "canceled"
    assert [e["type"] for e in await events(client, desk, stop["id"])] == [
        "placed",
        "accepted",
        "cancel_requested",
        "canceled",
    ]
    # D[9] reaches both of the second bracket's legs: the stop is taken
    second = await read(client, desk, both.id)
    stop, profit = second["legs"]
    assert stop["status"] == "filled" and stop["filled_avg_price"] == "85"
    assert profit["status"] == "canceled"
    assert await holding(client, desk) == ("48", str(95200 - 400 + 440 - 400 + 340))


async def test_a_fill_the_ledger_refuses_rejects_the_order(
    app: FastAPI, client: AsyncClient, session: AsyncSession
) -> None:
    desk = await make_desk(app, client, session, cash="1000")
    first = await place_on(app, desk, D[5], quantity="8", override_reason="x")
    second = await place_on(app, desk, D[5], quantity="8")
    ran = await run_paper(app, D[7])
    assert (ran.fills, ran.rejected) == (1, 1)
    assert (await read(client, desk, first.id))["status"] == "filled"
    rejected = await read(client, desk, second.id)
    assert rejected["status"] == "rejected" and rejected["filled_quantity"] == "0"
    last = (await events(client, desk, second.id))[-1]
    assert last["data"]["code"] == "insufficient_cash"
    assert await holding(client, desk) == ("56", "200")

"""CSV import and export of trades over HTTP: all rows or none, and a faithful round trip."""

from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.permissions import Role
from app.ledger.models import Trade
from app.portfolios.models import Portfolio
from app.users.models import User
from tests.factories import bearer, make_portfolio, make_team, make_user

Desk = tuple[Portfolio, dict[str, str], User]


@pytest.fixture
async def desk(app: FastAPI, session: AsyncSession) -> Desk:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, cash="1000000")
    return portfolio, await bearer(app, pm), pm


async def upload(
    client: AsyncClient, slug: str, headers: dict[str, str], content: str | bytes
) -> Response:
    data = content.encode() if isinstance(content, str) else content
    files = {"file": ("trades.csv", data, "text/csv")}
    return await client.post(f"/portfolios/{slug}/trades/import", files=files, headers=headers)


async def export(client: AsyncClient, slug: str, headers: dict[str, str]) -> str:
    response = await client.get(f"/portfolios/{slug}/trades/export", headers=headers)
    assert response.status_code == 200, response.text
    return response.text


async def held(client: AsyncClient, slug: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(
        f"/portfolios/{slug}/positions", params={"include_closed": "true"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {
        p["ticker"]: tuple(Decimal(p[k]) for k in ("quantity", "cost_basis", "realized_pnl"))
        for p in response.json()["items"]
    }


async def state(client: AsyncClient, portfolio: Portfolio, headers: dict[str, str]) -> Any:
    """Positions, trade count and cash: what a refused import must leave as it was."""
    trades = await client.get(f"/portfolios/{portfolio.slug}/trades", headers=headers)
    cash = await client.get(f"/portfolios/{portfolio.slug}/cash", headers=headers)
    return (
        await held(client, portfolio.slug, headers),
        trades.json()["total"],
        cash.json()["balance"],
    )


def error_rows(response: Response) -> dict[int, list[str]]:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_csv"
    return {r["row"]: r["errors"] for r in error["details"]["rows"]}


async def test_header_aliases_and_side_spellings_are_read(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    content = (
        " Date ,SYMBOL,Shares,Action,Price,Commission,Memo,ID\n"
        "2025-01-06,aapl,10,B,100.50,1,first lot,ext-1\n"
        "2025-01-07,AAPL,4,s,110,0.5,,ext-2\n"
        "2025-01-08,MSFT,2,BUY,300.12345678,,,\n"
        "\n"
    )
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["booked"] == 3 and body["last_trade_id"] - body["first_trade_id"] == 2
    listed = await client.get(f"/portfolios/{portfolio.slug}/trades", headers=headers)
    first = next(t for t in listed.json()["items"] if t["id"] == body["first_trade_id"])
    assert (first["side"], first["fees"], first["notes"], first["external_id"]) == (
        "buy",
        "1",
        "first lot",
        "ext-1",
    )
    positions = await held(client, portfolio.slug, headers)
    assert positions["AAPL"] == (Decimal(6), Decimal("603.6"), Decimal("37.1"))
    assert positions["MSFT"][1] == Decimal("600.24691356")

    other_names = "trade_date,ticker,quantity,side,price,fee,note\n2025-01-09,MSFT,1,sell,1,0,x\n"
    assert (await upload(client, portfolio.slug, headers, other_names)).status_code == 201


async def test_one_bad_row_books_nothing_and_names_the_row(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    await upload(
        client, portfolio.slug, headers, "date,ticker,side,qty,price\n2025-01-02,KO,buy,5,60\n"
    )
    before = await state(client, portfolio, headers)
    content = (
        "date,ticker,side,qty,price\n"
        "2025-01-06,AAPL,buy,10,100\n"
        "2025-01-06,MSFT,buy,10,100\n"
        "2025-01-07,AAPL,buy,-3,100\n"
        "2025-01-08,MSFT,sell,1,100\n"
    )
    rows = error_rows(await upload(client, portfolio.slug, headers, content))
    assert list(rows) == [4]
    assert rows[4] == ["quantity: Input should be greater than 0"]
    assert await state(client, portfolio, headers) == before


async def test_every_bad_row_is_listed_with_its_reasons(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    content = (
        "date,ticker,side,qty,price,fees\n"
        "2025-01-06,AAPL,hold,10,100,0\n"
        "2999-01-01,AAPL,buy,10,abc,-1\n"
        "2025-01-06,AAPL,buy,10,100,0,extra\n"
        "2025-01-06,AAPL,buy,1.123456789,100,0\n"
    )
    rows = error_rows(await upload(client, portfolio.slug, headers, content))
    assert rows[2] == ["side: Input should be 'buy' or 'sell'"]
    assert {reason.split(":")[0] for reason in rows[3]} == {"trade_date", "price", "fees"}
    assert rows[4] == ["7 cells, but the header has 6 columns"]
    assert "decimal places" in rows[5][0]


async def test_an_unknown_ticker_is_a_row_error(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    content = (
        "date,ticker,side,qty,price\n"
        "2025-01-06,AAPL,buy,1,100\n"
        "2025-01-06,NOPE42,buy,1,100\n"
        "2025-01-07,nope42,buy,0,100\n"
    )
    rows = error_rows(await upload(client, portfolio.slug, headers, content))
    assert rows[3] == ["ticker: NOPE42 is not known to the provider"]
    assert rows[4][-1] == "ticker: NOPE42 is not known to the provider"
    assert await held(client, portfolio.slug, headers) == {}


async def test_external_ids_must_be_new_to_the_file_and_the_portfolio(
    client: AsyncClient, desk: Desk
) -> None:
    portfolio, headers, _ = desk
    first = "date,ticker,side,qty,price,external_id\n2025-01-06,AAPL,buy,1,100,A-1\n"
    booked = await upload(client, portfolio.slug, headers, first)
    assert booked.status_code == 201
    content = (
        "date,ticker,side,qty,price,external_id\n"
        "2025-01-07,AAPL,buy,1,100,A-2\n"
        "2025-01-07,AAPL,buy,1,100,A-1\n"
        "2025-01-07,AAPL,buy,1,100,A-2\n"
    )
    rows = error_rows(await upload(client, portfolio.slug, headers, content))
    trade_id = booked.json()["first_trade_id"]
    assert rows == {
        3: [f"external_id: A-1 is already booked as trade {trade_id}"],
        4: ["external_id: A-2 repeats row 2"],
    }


async def test_a_sell_beyond_holdings_in_the_file_books_nothing(
    client: AsyncClient, desk: Desk
) -> None:
    portfolio, headers, _ = desk
    await upload(
        client, portfolio.slug, headers, "date,ticker,side,qty,price\n2025-01-10,AAPL,buy,10,100\n"
    )
    before = await state(client, portfolio, headers)
    content = "date,ticker,side,qty,price\n2025-01-12,MSFT,buy,5,100\n2025-01-05,AAPL,sell,4,100\n"
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_quantity"
    assert error["details"] == {"trade_date": "2025-01-05", "short_by": "4", "ticker": "AAPL"}
    assert await state(client, portfolio, headers) == before


async def test_the_file_folds_after_the_booked_history_in_date_order(
    client: AsyncClient, desk: Desk
) -> None:
    portfolio, headers, _ = desk
    await upload(
        client, portfolio.slug, headers, "date,ticker,side,qty,price\n2025-01-10,AAPL,buy,10,100\n"
    )
    content = (
        "date,ticker,side,qty,price,notes\n"
        "2025-01-20,AAPL,sell,12,150,second\n"
        "2025-01-15,AAPL,buy,2,130,first\n"
    )
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 201, response.text
    assert (await held(client, portfolio.slug, headers))["AAPL"] == (0, 0, Decimal("540"))
    listed = (await client.get(f"/portfolios/{portfolio.slug}/trades", headers=headers)).json()
    by_id = sorted(listed["items"], key=lambda t: t["id"])
    assert [t["notes"] for t in by_id] == ["", "second", "first"]


async def test_a_file_that_overdraws_cash_is_refused(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, cash="1000")
    headers = await bearer(app, pm)
    content = (
        "date,ticker,side,qty,price,fees\n"
        "2025-01-06,AAPL,buy,10,100,0\n"
        "2025-01-07,AAPL,sell,10,100,1\n"
        "2025-01-08,AAPL,buy,10,100,0\n"
    )
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["date"] == "2025-01-08"
    fits = content.replace("08,AAPL,buy,10", "08,AAPL,buy,9")
    assert (await upload(client, portfolio.slug, headers, fits)).status_code == 201
    cash = await client.get(f"/portfolios/{portfolio.slug}/cash", headers=headers)
    assert Decimal(cash.json()["balance"]) == Decimal("99")


async def test_a_file_short_of_cash_on_one_day_is_refused_though_it_ends_in_credit(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    pm = await make_user(session, Role.PORTFOLIO_MANAGER)
    portfolio = await make_portfolio(session, pm, cash="1000")
    headers = await bearer(app, pm)
    content = (
        "date,ticker,side,qty,price,fees\n"
        "2025-01-06,AAPL,buy,10,100,1\n"
        "2025-01-07,AAPL,sell,10,200,0\n"
    )
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["date"]) == ("insufficient_cash", "2025-01-06")
    assert error["details"]["cash_balance"] == "-1"
    assert (
        await upload(client, portfolio.slug, headers, content.replace(",1\n", ",0\n"))
    ).status_code == 201


async def test_export_then_import_into_a_new_portfolio_gives_identical_positions(
    client: AsyncClient, app: FastAPI, session: AsyncSession, desk: Desk
) -> None:
    portfolio, headers, pm = desk
    content = (
        "date,ticker,side,qty,price,fees,notes,external_id\n"
        '2024-03-01,AAPL,buy,10.5,189.12345678,1.25,"lot, with ""quotes""",X1\n'
        '2024-03-04,MSFT,buy,3,400,0,"two\nlines",\n'
        "2024-03-02,AAPL,buy,2,180,0,back-dated,\n"
        "2024-04-01,AAPL,sell,7.25,200.5,0.99,,X2\n"
        "2024-04-01,MSFT,sell,3,390,1,closed,\n"
    )
    assert (await upload(client, portfolio.slug, headers, content)).status_code == 201
    booked = await client.post(
        f"/portfolios/{portfolio.slug}/trades",
        json={
            "ticker": "SPY",
            "side": "buy",
            "quantity": "1",
            "price": "500",
            "trade_date": "2024-02-01",
        },
        headers=headers,
    )
    cancelled = await client.post(
        f"/portfolios/{portfolio.slug}/trades/{booked.json()['id']}/cancel",
        json={"reason": "wrong fund"},
        headers=headers,
    )
    assert cancelled.status_code == 200

    response = await client.get(f"/portfolios/{portfolio.slug}/trades/export", headers=headers)
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="{portfolio.slug}-trades.csv"' in response.headers["content-disposition"]
    exported = response.text
    lines = exported.splitlines()
    assert lines[0] == "trade_date,ticker,side,quantity,price,fees,notes,external_id"
    assert lines[1] == '2024-03-01,AAPL,buy,10.5,189.12345678,1.25,"lot, with ""quotes""",X1'
    assert "SPY" not in exported

    twin = await make_portfolio(session, pm, allow_negative_cash=True)
    imported = await upload(client, twin.slug, headers, exported)
    assert imported.status_code == 201 and imported.json()["booked"] == 5
    original = await held(client, portfolio.slug, headers)
    assert original.pop("SPY") == (0, 0, 0)  # the cancelled trade's instrument, now empty
    assert await held(client, twin.slug, headers) == original
    assert await export(client, twin.slug, headers) == exported


async def test_cells_a_spreadsheet_would_run_are_exported_as_text_and_read_back(
    client: AsyncClient, session: AsyncSession, desk: Desk
) -> None:
    portfolio, headers, pm = desk
    notes = ['=HYPERLINK("http://x")', "+1", "-2", "@SUM(A1)", "\tcmd", "'quoted", "plain"]
    content = "trade_date,ticker,side,quantity,price,notes,external_id\n" + "".join(
        f'2024-03-0{n + 1},AAPL,buy,1,10,"{note.replace(chr(34), chr(34) * 2)}",{note[:1]}{n}\n'
        for n, note in enumerate(notes)
    )
    assert (await upload(client, portfolio.slug, headers, content)).status_code == 201
    exported = await export(client, portfolio.slug, headers)
    cells = [line.split(",", 6)[6] for line in exported.splitlines()[1:]]
    assert cells[0].startswith("\"'=HYPERLINK(") and cells[1].startswith("'+1,'+")
    assert cells[2].startswith("'-2,'-") and cells[3].startswith("'@SUM(A1),'@")
    assert cells[4] == "'\tcmd,4" and cells[5] == "'quoted,'5"
    assert cells[6] == "plain,p6"

    twin = await make_portfolio(session, pm, cash="1000000")
    assert (await upload(client, twin.slug, headers, exported)).status_code == 201
    trades = await client.get(f"/portfolios/{twin.slug}/trades?limit=10", headers=headers)
    assert sorted(t["notes"] for t in trades.json()["items"]) == sorted(notes)


async def test_an_unterminated_quote_refuses_the_file(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    before = await state(client, portfolio, headers)
    content = (
        "trade_date,ticker,side,quantity,price,notes\n"
        '2024-03-01,AAPL,buy,1,10,"never closed\n'
        + "".join(f"2024-03-02,AAPL,buy,1,10,row {n}\n" for n in range(200))
    )
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_csv"
    assert error["details"]["rows"][0]["row"] == 2
    assert await state(client, portfolio, headers) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8"),
        (b"date,ticker\x00,side\n", "binary"),
        ("date,ticker,side,qty,price\n2025-01-06,CAF\xc9,buy,1,1\n".encode("latin-1"), "UTF-8"),
        (b"", "has errors"),
        (b"just some words\nand more\n", "has errors"),
    ],
)
async def test_a_file_that_is_not_csv_is_refused_with_the_envelope(
    client: AsyncClient, desk: Desk, content: bytes, message: str
) -> None:
    portfolio, headers, _ = desk
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_csv" and message in error["message"]


async def test_a_missing_column_is_an_error_of_the_header_row(
    client: AsyncClient, desk: Desk
) -> None:
    portfolio, headers, _ = desk
    rows = error_rows(await upload(client, portfolio.slug, headers, "date,symbol,qty\n"))
    assert rows == {
        1: [
            "no side column (one of: side, action, type)",
            "no price column (one of: price)",
        ]
    }


async def test_a_request_without_a_file_is_a_validation_error(
    client: AsyncClient, desk: Desk
) -> None:
    portfolio, headers, _ = desk
    response = await client.post(
        f"/portfolios/{portfolio.slug}/trades/import", json={"rows": []}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_uploads_may_exceed_the_json_body_limit(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    row = f"2025-01-06,AAPL,buy,1,100,{'n' * 2000}\n"
    content = "date,ticker,side,qty,price,notes\n" + row * 600
    assert len(content) > 1_200_000
    response = await upload(client, portfolio.slug, headers, content)
    assert response.status_code == 201, response.text
    assert response.json()["booked"] == 600


async def test_the_number_of_listed_rows_is_capped(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    content = "date,ticker,side,qty,price\n" + "2025-01-06,AAPL,buy,0,100\n" * 150
    response = await upload(client, portfolio.slug, headers, content)
    details = response.json()["error"]["details"]
    assert len(details["rows"]) == 100 and details["total"] == 150
    assert details["rows"][0]["row"] == 2


async def test_an_import_is_one_audit_event(
    client: AsyncClient, session: AsyncSession, desk: Desk
) -> None:
    portfolio, headers, pm = desk
    content = "date,ticker,side,qty,price\n2025-01-06,AAPL,buy,1,100\n2025-01-07,AAPL,buy,1,100\n"
    body = (await upload(client, portfolio.slug, headers, content)).json()
    events = (
        await session.scalars(
            select(AuditEvent).where(
                AuditEvent.portfolio_id == portfolio.id, AuditEvent.action == "trades.import"
            )
        )
    ).all()
    assert [(e.actor_id, e.after) for e in events] == [
        (
            pm.id,
            {
                "count": 2,
                "first_trade_id": body["first_trade_id"],
                "last_trade_id": body["last_trade_id"],
            },
        )
    ]
    trades = await session.scalar(
        select(func.count(Trade.id)).where(Trade.portfolio_id == portfolio.id)
    )
    assert trades == 2


async def test_a_header_only_file_books_nothing(client: AsyncClient, desk: Desk) -> None:
    portfolio, headers, _ = desk
    response = await upload(
        client, portfolio.slug, headers, "trade_date,ticker,side,quantity,price\n"
    )
    assert response.status_code == 201
    assert response.json() == {"booked": 0, "first_trade_id": None, "last_trade_id": None}


async def test_a_viewer_may_export_but_not_import_and_an_outsider_sees_nothing(
    client: AsyncClient, app: FastAPI, session: AsyncSession
) -> None:
    team = await make_team(session)
    pm = await make_user(session, Role.PORTFOLIO_MANAGER, team=team)
    viewer = await make_user(session, Role.VIEWER, team=team)
    outsider = await make_user(session, Role.ANALYST)
    portfolio = await make_portfolio(session, pm, team=team, cash="1000")
    content = "date,ticker,side,qty,price\n2025-01-06,AAPL,buy,1,100\n"

    as_viewer = await bearer(app, viewer)
    refused = await upload(client, portfolio.slug, as_viewer, content)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert (await export(client, portfolio.slug, as_viewer)).startswith("trade_date,")

    as_outsider = await bearer(app, outsider)
    assert (await upload(client, portfolio.slug, as_outsider, content)).status_code == 404
    hidden = await client.get(f"/portfolios/{portfolio.slug}/trades/export", headers=as_outsider)
    assert hidden.status_code == 404
    assert (await client.post(f"/portfolios/{portfolio.slug}/trades/import")).status_code == 401


async def test_a_file_over_the_upload_limit_is_refused_before_it_is_read(
    client: AsyncClient, desk: Desk, app: FastAPI
) -> None:
    portfolio, headers, _ = desk
    too_big = b"x" * (app.state.shared.settings.max_upload_bytes + 1)
    response = await upload(client, portfolio.slug, headers, too_big)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_the_routes_are_documented(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    imported = paths["/portfolios/{slug}/trades/import"]["post"]
    assert {"201", "409", "413", "422"} <= set(imported["responses"])
    assert "multipart/form-data" in imported["requestBody"]["content"]
    exported = paths["/portfolios/{slug}/trades/export"]["get"]
    assert "text/csv" in exported["responses"]["200"]["content"]


async def test_an_import_with_an_idempotency_key_books_once(
    client: AsyncClient, session: AsyncSession, desk: Desk
) -> None:
    portfolio, headers, _ = desk
    content = "date,ticker,side,qty,price\n2025-01-06,AAPL,buy,1,100\n2025-01-07,MSFT,buy,2,50\n"
    keyed = headers | {"Idempotency-Key": "import-2025-01-07"}
    first = await upload(client, portfolio.slug, keyed, content)
    again = await upload(client, portfolio.slug, keyed, content)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other_file = await upload(client, portfolio.slug, keyed, content.replace("50", "51"))
    assert other_file.status_code == 422, other_file.text
    assert other_file.json()["error"]["code"] == "idempotency_key_reused"
    trades = await client.get(f"/portfolios/{portfolio.slug}/trades", headers=headers)
    assert trades.json()["total"] == 2


async def test_a_refused_import_is_audited(committed_app: FastAPI) -> None:
    async with committed_app.state.shared.sessions() as session:
        pm = await make_user(session, Role.PORTFOLIO_MANAGER)
        portfolio = await make_portfolio(session, pm, cash="100")
    headers = await bearer(committed_app, pm)
    transport = ASGITransport(app=committed_app)
    async with AsyncClient(transport=transport, base_url="https://test") as client:
        overdrawn = "date,ticker,side,qty,price\n2025-01-06,AAPL,buy,10,100\n"
        refused = await upload(client, portfolio.slug, headers, overdrawn)
        assert refused.status_code == 409, refused.text
        malformed = await upload(client, portfolio.slug, headers, "date,ticker\n2025-01-06\n")
        assert malformed.status_code == 422, malformed.text
    async with committed_app.state.shared.sessions() as session:
        events = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.portfolio_id == portfolio.id)
                .order_by(AuditEvent.id)
            )
        ).all()
    refusals = [e for e in events if e.action == "trades.import_refused"]
    assert [(e.actor_id, e.after["code"]) for e in refusals] == [
        (pm.id, "insufficient_cash"),
        (pm.id, "invalid_csv"),
    ]
    assert all(len(e.after["sha256"]) == 64 for e in refusals)

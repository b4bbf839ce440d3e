"""`folio demo seed`: accounts that can sign in, and funds whose books agree with their history."""

from decimal import Decimal
from typing import Any

from fastapi_users.password import PasswordHelper
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.cli.demo import ACCOUNTS, EMAIL_DOMAIN, FUNDS, TEAM_NAME
from app.cli.main import cli
from app.ledger import queries
from app.ledger.fold import fold
from app.ledger.models import (
    CashTransaction,
    CashType,
    Dividend,
    DividendStatus,
    Position,
    Trade,
    TradeStatus,
)
from app.ledger.queries import booked_fills
from app.ledger.rules import Fill
from app.portfolios.models import Portfolio
from app.users.models import Team, User
from tests.cli.conftest import in_session


def _printed_passwords(output: str) -> dict[str, str]:
    return {
        line.split()[0]: line.split()[1] for line in output.splitlines() if EMAIL_DOMAIN in line
    }


async def _check_accounts(session: AsyncSession, passwords: dict[str, str]) -> None:
    team = await session.scalar(select(Team).where(Team.name == TEAM_NAME))
    assert team is not None
    helper = PasswordHelper()
    for account in ACCOUNTS:
        email = f"{account.key}@{EMAIL_DOMAIN}"
        user = await session.scalar(select(User).where(User.email == email))
        assert user is not None and user.role is account.role and user.team_id == team.id
        assert user.approved_at is not None and user.is_active
        assert helper.verify_and_update(passwords[email], user.hashed_password)[0]


async def _check_fund(session: AsyncSession, portfolio: Portfolio) -> dict[str, Any]:
    positions = (
        await session.scalars(select(Position).where(Position.portfolio_id == portfolio.id))
    ).all()
    splits = await queries.splits(session, [p.instrument_id for p in positions])
    split_positions = 0
    for position in positions:
        fills = (await booked_fills(session, portfolio.id, [position.instrument_id]))[
            position.instrument_id
        ]
        found = [split for split, _ in splits.get(position.instrument_id, [])]
        folded = fold(fills, allow_short=False, splits=found).holding()
        assert (position.quantity, position.cost_basis, position.realized_pnl) == (
            folded.quantity,
            folded.cost_basis,
            folded.realized_pnl,
        )
        split_positions += folded.quantity != fold(fills, allow_short=False).holding().quantity
    trades = (
        await session.scalars(
            select(Trade).where(
                Trade.portfolio_id == portfolio.id, Trade.status == TradeStatus.BOOKED
            )
        )
    ).all()
    moves = (
        await session.scalars(
            select(CashTransaction).where(CashTransaction.portfolio_id == portfolio.id)
        )
    ).all()
    balance = sum((m.type.sign * m.amount for m in moves), Decimal(0))
    balance += sum(
        (Fill(t.side.value, t.quantity, t.price, t.fees, t.trade_date).cash_effect for t in trades),
        Decimal(0),
    )
    assert balance == portfolio.cash_balance >= 0
    first_move = min(moves, key=lambda m: (m.date, m.id))
    assert first_move.type is CashType.DEPOSIT
    assert first_move.date <= min(t.trade_date for t in trades)
    return {
        "trades": len(trades),
        "sells": sum(t.side.value == "sell" for t in trades),
        "kinds": {m.type for m in moves},
        "open": sum(p.quantity > 0 for p in positions),
        "split": split_positions,
        "dividends": set(
            await session.scalars(
                select(Dividend.status).where(Dividend.portfolio_id == portfolio.id)
            )
        ),
        "auto_book": portfolio.auto_book_dividends,
    }


async def _check_desk(session: AsyncSession, passwords: dict[str, str]) -> list[dict[str, Any]]:
    await _check_accounts(session, passwords)
    names = [fund.name for fund in FUNDS]
    portfolios = (await session.scalars(select(Portfolio).where(Portfolio.name.in_(names)))).all()
    assert len(portfolios) == len(FUNDS)
    audited = await session.scalar(
        select(func.count(AuditEvent.id)).where(AuditEvent.action == "trade.book")
    )
    summaries = [await _check_fund(session, p) for p in portfolios]
    assert audited == sum(s["trades"] for s in summaries)
    return summaries


def test_demo_seed_builds_a_desk_whose_books_agree_with_its_history(
    runner: CliRunner, sqlite_url: str
) -> None:
    result = runner.invoke(cli, ["demo", "seed"])
    assert result.exit_code == 0, result.output
    passwords = _printed_passwords(result.stdout)
    assert len(passwords) == len(ACCOUNTS)

    summaries = in_session(sqlite_url, lambda s: _check_desk(s, passwords))
    for summary in summaries:
        assert summary["trades"] > 50 and summary["sells"] > 5 and summary["open"] >= 3
        assert {CashType.DEPOSIT, CashType.FEE} <= summary["kinds"]
        if summary["auto_book"]:  # the income fund books its dividends on their pay dates
            assert CashType.DIVIDEND in summary["kinds"]
            assert summary["dividends"] == {DividendStatus.BOOKED}
        else:  # the growth fund leaves them to its PM
            assert DividendStatus.PROPOSED in summary["dividends"]
    assert sum(s["split"] for s in summaries) >= 1  # NFLX's 10-for-1 of 2025-11-17

    again = runner.invoke(cli, ["demo", "seed"])
    assert again.exit_code == 1
    assert "exists already" in again.output

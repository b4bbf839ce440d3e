"""`folio demo seed`: a desk to explore at once: a team, three accounts and two funds with
two years of trades and cash at the market-data provider's own closes, their splits folded in
and their dividends proposed (the income fund books its own on their pay dates)."""

import random
import secrets
import string
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Role
from app.cash import service as cash
from app.cash.schemas import CashCreate
from app.cli.services import run_with_services
from app.core.database import utcnow
from app.core.errors import Conflict
from app.dividends import service as dividends
from app.ledger import posting
from app.ledger.models import CashType, Position, Side, Trade
from app.market import store
from app.market.provider import MarketDataUnavailable
from app.market.service import MarketData, final_date
from app.portfolios import service as portfolios
from app.portfolios.models import Portfolio
from app.portfolios.schemas import PortfolioCreate
from app.state import AppState
from app.trades import booking
from app.trades.schemas import TradeCreate
from app.users.models import Team, User
from app.users.service import create_team, create_user

app = typer.Typer(help="Demo data.", no_args_is_help=True)

TEAM_NAME = "Demo Desk"
EMAIL_DOMAIN = "demo-desk.example"
HISTORY_DAYS = 730
TRADE_EVERY = 4  # business days
QUARTER = 63  # business days
MIN_DAYS = 60
CENT = Decimal("0.01")
COMMISSION = Decimal("1.00")
CUSTODY_FEE = Decimal("25.00")
SEED = 20240102
PASSWORD_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Account:
    key: str
    role: Role
    full_name: str


ACCOUNTS = (
    Account("pm", Role.PORTFOLIO_MANAGER, "Pat Morgan"),
    Account("analyst", Role.ANALYST, "Alex Chen"),
    Account("viewer", Role.VIEWER, "Val Rivera"),
)


@dataclass(frozen=True)
class Fund:
    name: str
    description: str
    tickers: tuple[str, ...]
    deposit: Decimal
    benchmark: str
    auto_book_dividends: bool


FUNDS = (
    Fund(
        "Demo Growth Fund",
        "US large-cap technology and growth",
        ("AAPL", "MSFT", "NVDA", "GOOGL", "NFLX", "META"),
        Decimal("250000.00"),
        "QQQ",
        False,
    ),
    Fund(
        "Demo Income Fund",
        "Dividend payers and bonds",
        ("JNJ", "PG", "KO", "PEP", "XOM", "AGG", "TLT"),
        Decimal("150000.00"),
        "SPY",
        True,
    ),
)

Closes = dict[str, dict[date, Decimal]]
Action = TradeCreate | CashCreate


class DemoExists(Conflict):
    code = "demo_exists"
    message = f"The demo desk exists already (team {TEAM_NAME!r}); nothing was changed."


@dataclass
class Book:
    """What a fund holds while its plan is drawn up, so no plan sells short or overdraws."""

    cash: Decimal
    held: dict[str, int]


def plan(fund: Fund, closes: Closes, days: Sequence[date], rng: random.Random) -> list[Action]:
    """A fund's history in date order: the deposit, initial buys, then trades and cash."""
    book = Book(fund.deposit, defaultdict(int))
    actions: list[Action] = [_cash(CashType.DEPOSIT, fund.deposit, days[0], "seed capital")]
    budget = fund.deposit / (len(fund.tickers) + 2)
    for ticker, day in zip(fund.tickers, days[1:], strict=False):
        actions += _buy(book, ticker, closes[ticker][day], day, budget, "initial position")
    for i, day in enumerate(days[len(fund.tickers) + 1 :], start=1):
        if i % QUARTER == 0:
            actions += _custody_fee(book, day)
        if i % TRADE_EVERY == 0:
            actions += _trade(book, fund, closes, day, rng)
    return actions


def _trade(book: Book, fund: Fund, closes: Closes, day: date, rng: random.Random) -> list[Action]:
    ticker = rng.choice(fund.tickers)
    price = closes[ticker][day]
    if book.held[ticker] and rng.random() < 0.35:
        quantity = max(1, int(book.held[ticker] * rng.choice((0.25, 0.5, 1.0))))
        return _sell(book, ticker, price, day, quantity)
    budget = book.cash * Decimal(rng.randint(3, 12)) / 100
    return _buy(book, ticker, price, day, budget, "")


def _buy(
    book: Book, ticker: str, price: Decimal, day: date, budget: Decimal, notes: str
) -> list[Action]:
    quantity = int((budget - COMMISSION) / price)
    cost = quantity * price + COMMISSION
    if quantity < 1 or cost > book.cash:
        return []
    book.cash -= cost
    book.held[ticker] += quantity
    return [_trade_of(ticker, Side.BUY, quantity, price, day, notes)]


def _sell(book: Book, ticker: str, price: Decimal, day: date, quantity: int) -> list[Action]:
    book.cash += quantity * price - COMMISSION
    book.held[ticker] -= quantity
    notes = "closed position" if book.held[ticker] == 0 else "trimmed"
    return [_trade_of(ticker, Side.SELL, quantity, price, day, notes)]


def _custody_fee(book: Book, day: date) -> list[Action]:
    if book.cash < CUSTODY_FEE:
        return []
    book.cash -= CUSTODY_FEE
    return [_cash(CashType.FEE, CUSTODY_FEE, day, "custody fee")]


def _trade_of(
    ticker: str, side: Side, quantity: int, price: Decimal, day: date, notes: str
) -> TradeCreate:
    return TradeCreate(
        ticker=ticker,
        side=side,
        quantity=Decimal(quantity),
        price=price,
        fees=COMMISSION,
        trade_date=day,
        notes=notes,
    )


def _cash(
    kind: CashType, amount: Decimal, day: date, note: str, ticker: str | None = None
) -> CashCreate:
    return CashCreate(type=kind, amount=amount, date=day, note=note, ticker=ticker)


async def closes_of(market: MarketData, tickers: Sequence[str]) -> Closes:
    """Each ticker's closes over the history."""
    end = utcnow().date()
    start = end - timedelta(days=HISTORY_DAYS)
    closes: Closes = {}
    for ticker in tickers:
        bars = await market.daily_bars(ticker, start, end)
        closes[ticker] = {bar.date: bar.close for bar in bars.items}
    if min(len(c) for c in closes.values()) < MIN_DAYS:
        raise MarketDataUnavailable("Too few days of prices to build a demo history.")
    return closes


@dataclass(frozen=True)
class Seeded:
    accounts: list[tuple[User, str]]
    funds: list[tuple[Portfolio, int, int]]


async def _accounts(session: AsyncSession) -> list[tuple[User, str]]:
    team = await create_team(session, None, TEAM_NAME)
    made = []
    for account in ACCOUNTS:
        password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
        user = await create_user(
            session,
            email=f"{account.key}@{EMAIL_DOMAIN}",
            password=password,
            username=f"demo-{account.key}",
            full_name=account.full_name,
            role=account.role,
        )
        user.team_id = team.id
        made.append((user, password))
    await session.flush()
    return made


async def _fund(
    session: AsyncSession, market: MarketData, fund: Fund, users: Sequence[User], closes: Closes
) -> Portfolio:
    pm, analyst = users[0], users[1]
    create = PortfolioCreate(
        name=fund.name,
        description=fund.description,
        benchmark=fund.benchmark,
        auto_book_dividends=fund.auto_book_dividends,
    )
    portfolio = await portfolios.create(session, pm, create)
    days = sorted(set.intersection(*(set(closes[t]) for t in fund.tickers)))
    rng = random.Random(f"{SEED}:{fund.name}")  # noqa: S311 - a reproducible demo
    for action in plan(fund, closes, days, rng):
        instrument = (
            await posting.instrument_for(session, market, action.ticker) if action.ticker else None
        )
        locked = await portfolios.lock(session, portfolio.id)
        if isinstance(action, TradeCreate):
            assert instrument is not None
            await booking.book(session, rng.choice((pm, analyst)), locked, instrument, action)
        else:
            await cash.record_cash(session, pm, locked, instrument, action)
    await dividends.apply_actions(session, market, portfolio)
    return portfolio


async def _counts(session: AsyncSession, portfolio: Portfolio) -> tuple[int, int]:
    trades = await session.scalar(
        select(func.count(Trade.id)).where(Trade.portfolio_id == portfolio.id)
    )
    open_positions = await session.scalar(
        select(func.count())
        .select_from(Position)
        .where(Position.portfolio_id == portfolio.id, Position.quantity != 0)
    )
    return trades or 0, open_positions or 0


async def seed_desk(s: AppState) -> Seeded:
    async with s.sessions() as session:
        if await session.scalar(select(Team.id).where(Team.name == TEAM_NAME)):
            raise DemoExists
    tickers = sorted({t for f in FUNDS for t in f.tickers})
    closes = await closes_of(s.market, tickers)
    async with s.sessions() as session:  # splits known before the trades are folded
        ids = await store.instrument_ids(session, tickers)
        await s.market.ensure_actions(session, {i: t for t, i in ids.items()}, final_date())
        await session.commit()
    async with s.sessions() as session, session.begin():
        accounts = await _accounts(session)
        users = [user for user, _ in accounts]
        made = [await _fund(session, s.market, fund, users, closes) for fund in FUNDS]
        await session.flush()
        funds = [(p, *(await _counts(session, p))) for p in made]
    return Seeded(accounts, funds)


@app.command()
def seed() -> None:
    """Create the demo team, a PM, an analyst, a viewer and two funds with two years of history."""
    seeded = run_with_services(seed_desk)
    typer.echo("Demo accounts (the passwords are shown only now):")
    for user, password in seeded.accounts:
        typer.echo(f"  {user.email:<28} {password:<20} {user.role.value}")
    typer.echo("Demo portfolios:")
    for portfolio, trades, open_positions in seeded.funds:
        typer.echo(
            f"  {portfolio.slug:<20} {trades} trades, {open_positions} open positions, "
            f"cash {portfolio.cash_balance:,.2f}"
        )
    typer.echo("Sign in with POST /auth/jwt/login (or Authorize in /docs) as any of them.")

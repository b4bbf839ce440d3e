"""Strategies: created, listed, read, changed and deleted, each step recorded as an event."""

import uuid
from typing import Any, Literal

from sqlalchemy import Select, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import snapshot
from app.auth.permissions import Permission, PermissionDenied, effective_role, has_permission
from app.core.errors import Conflict, InvalidInput, NotFound
from app.market.service import MarketData
from app.portfolios.models import Portfolio
from app.portfolios.service import PortfolioArchived, PortfolioNotFound, get_visible, visible_to
from app.strategies import events, kinds
from app.strategies.models import EventType, Signal, Strategy
from app.strategies.schemas import StrategyCreate, StrategyRead, StrategyUpdate
from app.users.models import User

# What an `updated` event shows before and after (activation has events of its own).
SETTINGS = (
    "name",
    "description",
    "kind",
    "params",
    "tickers",
    "portfolio_id",
    "sizing",
    "stop_loss_pct",
    "take_profit_pct",
    "auto_trade",
)
# Fields a PATCH clears with null; it leaves the others as they are.
NULLABLE = frozenset({"portfolio", "stop_loss_pct", "take_profit_pct"})
# Fields a PATCH sets as given; the others are checked or translated first.
AS_GIVEN = frozenset(
    {"name", "description", "kind", "stop_loss_pct", "take_profit_pct", "active", "auto_trade"}
)

Lock = Literal["update", "no_key_update", "key_share"]
# (read, key_share) of each: FOR UPDATE, FOR NO KEY UPDATE, FOR KEY SHARE.
_LOCKS: dict[Lock, tuple[bool, bool]] = {
    "update": (False, False),
    "no_key_update": (False, True),
    "key_share": (True, True),
}


class StrategyNotFound(NotFound):
    code = "strategy_not_found"
    message = "No such strategy."


class StrategyExists(Conflict):
    code = "strategy_exists"
    message = "A strategy with that name exists."


class StrategyHasSignals(Conflict):
    code = "strategy_has_signals"
    message = "The strategy has signals: deactivate it instead of deleting it."


class UnknownTickers(InvalidInput):
    code = "unknown_ticker"
    message = "Some tickers are not known to the market-data provider."


async def get(session: AsyncSession, strategy_id: int, lock: Lock | None = None) -> Strategy:
    """The strategy, locked as asked for the rest of the transaction; 404 when there is none."""
    query = select(Strategy).where(Strategy.id == strategy_id)
    strategy = await session.scalar(_locked(query, lock) if lock else query)
    if strategy is None:
        raise StrategyNotFound(details={"strategy_id": strategy_id})
    return strategy


async def get_by_name(session: AsyncSession, name: str) -> Strategy:
    strategy = await session.scalar(select(Strategy).where(Strategy.name == name))
    if strategy is None:
        raise StrategyNotFound(details={"name": name})
    return strategy


async def active(session: AsyncSession) -> list[Strategy]:
    """The active strategies, which cannot be deleted until this transaction ends."""
    query = select(Strategy).where(Strategy.active).order_by(Strategy.id)
    return list(await session.scalars(_locked(query, "key_share")))


def _locked(query: Select[tuple[Strategy]], lock: Lock) -> Select[tuple[Strategy]]:
    read, key_share = _LOCKS[lock]
    locked = query.with_for_update(read=read, key_share=key_share)
    return locked.execution_options(populate_existing=True)


def _with_slug(user: User) -> Select[tuple[Strategy, str]]:
    """Each strategy with its portfolio's slug, none where `user` may not see the portfolio."""
    return select(Strategy, Portfolio.slug).outerjoin(
        Portfolio, (Portfolio.id == Strategy.portfolio_id) & visible_to(user)
    )


def _read(strategy: Strategy, slug: str | None) -> StrategyRead:
    return StrategyRead.model_validate(strategy).model_copy(update={"portfolio": slug})


async def read(session: AsyncSession, user: User, strategy_id: int) -> StrategyRead:
    query = _with_slug(user).where(Strategy.id == strategy_id)
    row = (await session.execute(query)).one_or_none()
    if row is None:
        raise StrategyNotFound(details={"strategy_id": strategy_id})
    return _read(*row)


async def list_strategies(
    session: AsyncSession, user: User, limit: int, offset: int
) -> tuple[list[StrategyRead], int]:
    total = await session.scalar(select(func.count()).select_from(Strategy))
    rows = await session.execute(
        _with_slug(user).order_by(Strategy.name).limit(limit).offset(offset)
    )
    return [_read(*row) for row in rows], total or 0


async def create(
    session: AsyncSession, market: MarketData, user: User, data: StrategyCreate
) -> StrategyRead:
    params = kinds.validate(data.kind, data.params)
    portfolio_id = await _tradable(session, user, data.portfolio) if data.portfolio else None
    tickers = await _known(session, market, data.tickers)
    strategy = Strategy(
        name=data.name,
        description=data.description,
        kind=data.kind,
        params=params,
        tickers=tickers,
        portfolio_id=portfolio_id,
        sizing=data.sizing.model_dump(mode="json"),
        stop_loss_pct=data.stop_loss_pct,
        take_profit_pct=data.take_profit_pct,
        active=data.active,
        auto_trade=data.auto_trade,
        created_by=user.id,
    )
    await _flush_unique(session, strategy)
    await events.record(
        session,
        strategy.id,
        EventType.CREATED,
        f"Created by {user.username}, {'active' if strategy.active else 'inactive'}.",
        {"by": str(user.id), "after": snapshot(strategy, SETTINGS) | {"active": strategy.active}},
    )
    return await read(session, user, strategy.id)


async def update(
    session: AsyncSession,
    market: MarketData,
    user: User,
    strategy_id: int,
    changes: StrategyUpdate,
) -> StrategyRead:
    """Apply the changes; an `updated` event shows the settings before and after, and a change
    of the active flag is an `activated` or `deactivated` event."""
    strategy = await get(session, strategy_id, lock="no_key_update")
    await check_may_change(session, user, strategy)
    new = await _settings(session, market, user, strategy, changes)
    before, was_active = snapshot(strategy, SETTINGS), strategy.active
    for field, value in new.items():
        setattr(strategy, field, value)
    await _flush_unique(session, strategy)
    after = snapshot(strategy, SETTINGS)
    by = {"by": str(user.id)}
    if changed := [k for k in SETTINGS if before[k] != after[k]]:
        await events.record(
            session,
            strategy.id,
            EventType.UPDATED,
            f"{', '.join(changed)} changed by {user.username}.",
            by
            | {"before": {k: before[k] for k in changed}, "after": {k: after[k] for k in changed}},
        )
    if strategy.active != was_active:
        step = EventType.ACTIVATED if strategy.active else EventType.DEACTIVATED
        message = f"{step.value.capitalize()} by {user.username}."
        await events.record(session, strategy.id, step, message, by)
    return await read(session, user, strategy.id)


async def _settings(
    session: AsyncSession,
    market: MarketData,
    user: User,
    strategy: Strategy,
    changes: StrategyUpdate,
) -> dict[str, Any]:
    """The model's new values for the changes asked, each checked."""
    asked = {
        k: getattr(changes, k)
        for k in changes.model_fields_set
        if getattr(changes, k) is not None or k in NULLABLE
    }
    new = {k: v for k, v in asked.items() if k in AS_GIVEN}
    if "kind" in asked or "params" in asked:
        kind = asked.get("kind", strategy.kind)
        new["params"] = kinds.validate(kind, asked.get("params", strategy.params))
    if "portfolio" in asked:
        slug = asked["portfolio"]
        new["portfolio_id"] = await _tradable(session, user, slug) if slug else None
    if changes.sizing is not None:
        new["sizing"] = changes.sizing.model_dump(mode="json")
    if changes.tickers is not None:
        new["tickers"] = await _known(session, market, changes.tickers)
    return new


async def delete(session: AsyncSession, user: User, strategy_id: int) -> None:
    """Delete a strategy that has never given a signal (its events go with it)."""
    strategy = await get(session, strategy_id, lock="update")
    await check_may_change(session, user, strategy)
    if await session.scalar(select(exists().where(Signal.strategy_id == strategy_id))):
        raise StrategyHasSignals(details={"strategy_id": strategy_id})
    await session.delete(strategy)
    await session.flush()


async def check_may_change(session: AsyncSession, user: User, strategy: Strategy) -> None:
    """A strategy linked to a portfolio is changed (or run) only by those who may see it;
    to the others the portfolio does not exist."""
    if strategy.portfolio_id is None:
        return
    visible = select(Portfolio.id).where(Portfolio.id == strategy.portfolio_id, visible_to(user))
    if await session.scalar(visible) is None:
        raise PortfolioNotFound(details={"strategy_id": strategy.id})


async def _tradable(session: AsyncSession, user: User, slug: str) -> uuid.UUID:
    """A portfolio the user may trade in: 404 when they cannot see it, 403 without the right."""
    portfolio = await get_visible(session, user, slug)
    if not has_permission(effective_role(user), Permission.TRADES_CREATE):
        raise PermissionDenied(
            "Linking a portfolio needs trading rights in it.",
            details={"permission": Permission.TRADES_CREATE.value},
        )
    if portfolio.archived_at is not None:
        raise PortfolioArchived(details={"slug": slug})
    return portfolio.id


async def _known(session: AsyncSession, market: MarketData, tickers: list[str]) -> list[str]:
    """The tickers once each, in order, all known to the provider (asked about new ones)."""
    unique = list(dict.fromkeys(tickers))
    _, unknown = await market.ensure_instruments(session, unique)
    if unknown:
        names = sorted(unknown)
        raise UnknownTickers(
            f"Not known to the market-data provider: {', '.join(names)}.",
            details={"tickers": names},
        )
    return unique


async def _flush_unique(session: AsyncSession, strategy: Strategy) -> None:
    name = strategy.name  # read before flushing: a failed flush expires the row
    try:
        async with session.begin_nested():
            session.add(strategy)
    except IntegrityError as exc:
        raise StrategyExists(details={"name": name}) from exc

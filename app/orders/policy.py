"""A portfolio's investment policy and the pre-trade check of an order against it.

Every rule is observed on the portfolio as it stands at the last close with the order done:
the order moves cash at its reference price (its limit, else its stop, else the last close)
and its position is valued at the last close. A rule a trade cannot be measured against (a
price is missing) fails. Weight rules and the cash band also pass a trade that brings the
portfolio nearer to them: a sale from an overweight position is never blocked.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.analytics.schemas import money, ratio
from app.backtests.fills import OrderKind
from app.core.schemas import PlainDecimal
from app.ledger.models import Side
from app.market.models import UNCLASSIFIED
from app.portfolios.schemas import Ticker

Severity = Literal["hard", "soft"]
Fraction = Annotated[PlainDecimal, Field(ge=0, le=1, decimal_places=6, allow_inf_nan=False)]
Amount = Annotated[PlainDecimal, Field(gt=0, lt=Decimal("1e15"), decimal_places=2)]
ZERO = Decimal(0)


class Band(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: Fraction = ZERO
    max: Fraction = Decimal(1)

    @model_validator(mode="after")
    def _ordered(self) -> "Band":
        if self.min > self.max:
            raise ValueError("min is above max")
        return self


class FractionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Fraction
    severity: Severity = "hard"


class BandRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Band
    severity: Severity = "hard"


class TickersRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: list[Ticker] = Field(max_length=1000)
    severity: Severity = "hard"

    @field_validator("limit")
    @classmethod
    def _once_each(cls, tickers: list[str]) -> list[str]:
        return list(dict.fromkeys(tickers))


class AmountRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Amount
    severity: Severity = "hard"


class Policy(BaseModel):
    """Each rule is hard (a breach denies the order) or soft (a breach needs an override);
    a rule left out is off."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "max_position_weight": {"limit": "0.05", "severity": "hard"},
                    "max_sector_weight": {"limit": "0.30", "severity": "soft"},
                    "cash_band": {"limit": {"min": "0.02", "max": "0.10"}, "severity": "soft"},
                    "restricted_tickers": {"limit": ["XYZ"], "severity": "hard"},
                    "max_order_notional": {"limit": "50000", "severity": "hard"},
                    "price_band": {"limit": "0.10", "severity": "soft"},
                }
            ]
        },
    )

    max_position_weight: FractionRule | None = None
    max_sector_weight: FractionRule | None = None
    cash_band: BandRule | None = None
    restricted_tickers: TickersRule | None = None
    max_order_notional: AmountRule | None = None
    price_band: FractionRule | None = None


class RuleResult(BaseModel):
    rule: str
    severity: Severity
    observed: Any = Field(description="What the order would make of the portfolio")
    limit: Any
    passed: bool = Field(serialization_alias="pass", validation_alias="pass")

    model_config = ConfigDict(populate_by_name=True)


class CheckRead(BaseModel):
    passed: bool = Field(serialization_alias="pass", validation_alias="pass")
    hard_breach: bool
    soft_breach: bool
    results: list[RuleResult]

    model_config = ConfigDict(populate_by_name=True)


@dataclass(frozen=True)
class Book:
    """The portfolio at the last close."""

    cash: Decimal
    quantities: dict[str, Decimal]  # open positions by ticker
    closes: dict[str, Decimal]  # the last close of each priced ticker
    sectors: dict[str, str]
    allow_short: bool
    allow_negative_cash: bool


@dataclass(frozen=True)
class Proposed:
    ticker: str
    side: Side
    type: OrderKind
    quantity: Decimal
    limit_price: Decimal | None
    stop_price: Decimal | None

    @property
    def signed(self) -> Decimal:
        return self.quantity if self.side is Side.BUY else -self.quantity


class _After:
    """The figures the rules observe, before and after the order; None where unpriced."""

    def __init__(self, book: Book, order: Proposed) -> None:
        self.book, self.order = book, order
        self.price = book.closes.get(order.ticker)
        self.reference = order.limit_price or order.stop_price or self.price
        self.held = book.quantities.get(order.ticker, ZERO)
        priced = [q * book.closes[t] for t, q in book.quantities.items() if t in book.closes]
        unpriced = len(priced) < len(book.quantities)
        self.nav = None if unpriced else book.cash + sum(priced, ZERO)
        moved = None if self.reference is None else order.signed * self.reference
        self.cash = None if moved is None else book.cash - moved
        gained = None if self.price is None else order.signed * self.price
        self.nav_after = (
            None
            if self.nav is None or moved is None or gained is None
            else self.nav - moved + gained
        )

    def weight(self, value: Decimal | None, nav: Decimal | None) -> Decimal | None:
        return None if value is None or not nav or nav <= 0 else value / nav

    def sector_of(self, ticker: str) -> str:
        return self.book.sectors.get(ticker, UNCLASSIFIED).casefold()

    def sector_value(self, after: bool) -> Decimal | None:
        sector = self.sector_of(self.order.ticker)
        same = [t for t in self.book.quantities if self.sector_of(t) == sector]
        if any(t not in self.book.closes for t in same) or self.price is None:
            return None
        value = sum((self.book.quantities[t] * self.book.closes[t] for t in same), ZERO)
        return value + self.order.signed * self.price if after else value


def check(policy: Policy, book: Book, order: Proposed) -> CheckRead:
    after = _After(book, order)
    results = [
        rule(getattr(policy, name), after)
        for name, rule in RULES.items()
        if getattr(policy, name) is not None
    ]
    results += [_short(book, after), _negative_cash(book, after)]
    failed = [r for r in results if not r.passed]
    hard = any(r.severity == "hard" for r in failed)
    soft = any(r.severity == "soft" for r in failed)
    return CheckRead(passed=not failed, hard_breach=hard, soft_breach=soft, results=results)


def _result(name: str, rule: Any, observed: Any, limit: Any, passed: bool) -> RuleResult:
    return RuleResult(
        rule=name, severity=rule.severity, observed=observed, limit=limit, passed=passed
    )


def _not_worse(before: Decimal | None, after: Decimal | None, limit: Decimal) -> bool:
    if after is None:
        return False
    return abs(after) <= limit or (before is not None and abs(after) <= abs(before))


def _position_weight(rule: FractionRule, a: _After) -> RuleResult:
    price = a.price
    before = a.weight(None if price is None else a.held * price, a.nav)
    now = a.weight(None if price is None else (a.held + a.order.signed) * price, a.nav_after)
    passed = _not_worse(before, now, rule.limit)
    return _result("max_position_weight", rule, _text(ratio(now)), str(rule.limit), passed)


def _sector_weight(rule: FractionRule, a: _After) -> RuleResult:
    before = a.weight(a.sector_value(after=False), a.nav)
    now = a.weight(a.sector_value(after=True), a.nav_after)
    passed = _not_worse(before, now, rule.limit)
    return _result("max_sector_weight", rule, _text(ratio(now)), str(rule.limit), passed)


def _cash_band(rule: BandRule, a: _After) -> RuleResult:
    band = rule.limit
    before, now = a.weight(a.book.cash, a.nav), a.weight(a.cash, a.nav_after)

    def distance(weight: Decimal) -> Decimal:
        return max(band.min - weight, weight - band.max, ZERO)

    passed = now is not None and (
        distance(now) == 0 or (before is not None and distance(now) < distance(before))
    )
    limit = {"min": str(band.min), "max": str(band.max)}
    return _result("cash_band", rule, _text(ratio(now)), limit, passed)


def _restricted(rule: TickersRule, a: _After) -> RuleResult:
    """Buying a restricted ticker, or selling it short, is a breach; selling it is not."""
    adds = a.order.side is Side.BUY or a.held - a.order.quantity < 0
    passed = not (adds and a.order.ticker in rule.limit)
    return _result("restricted_tickers", rule, a.order.ticker, rule.limit, passed)


def _notional(rule: AmountRule, a: _After) -> RuleResult:
    notional = None if a.reference is None else a.order.quantity * a.reference
    passed = notional is not None and notional <= rule.limit
    return _result("max_order_notional", rule, _text(money(notional)), str(rule.limit), passed)


def _price_band(rule: FractionRule, a: _After) -> RuleResult:
    prices = [p for p in (a.order.limit_price, a.order.stop_price) if p is not None]
    if not prices:
        deviation: Decimal | None = ZERO
    elif a.price is None:
        deviation = None
    else:
        deviation = max(abs(p / a.price - 1) for p in prices)
    passed = deviation is not None and deviation <= rule.limit
    return _result("price_band", rule, _text(ratio(deviation)), str(rule.limit), passed)


def _short(book: Book, a: _After) -> RuleResult:
    quantity = a.held + a.order.signed
    limit = None if book.allow_short else "0"
    passed = book.allow_short or quantity >= 0 or quantity >= a.held
    return RuleResult(
        rule="allow_short", severity="hard", observed=_text(quantity), limit=limit, passed=passed
    )


def _negative_cash(book: Book, a: _After) -> RuleResult:
    limit = None if book.allow_negative_cash else "0"
    passed = (
        book.allow_negative_cash
        or a.order.side is Side.SELL  # a sale only brings cash in
        or (a.cash is not None and (a.cash >= 0 or a.cash >= book.cash))
    )
    return RuleResult(
        rule="allow_negative_cash",
        severity="hard",
        observed=_text(money(a.cash)),
        limit=limit,
        passed=passed,
    )


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


RULES: dict[str, Callable[[Any, _After], RuleResult]] = {
    "max_position_weight": _position_weight,
    "max_sector_weight": _sector_weight,
    "cash_band": _cash_band,
    "restricted_tickers": _restricted,
    "max_order_notional": _notional,
    "price_band": _price_band,
}

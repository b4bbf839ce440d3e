"""Strategy kinds: their parameters, the indicators they read and their signal rules.

Each rule decides on the close of bar t, over whole arrays at once (PRODUCT.md):
- `sma_cross`, `ema_cross` {fast, slow}: BUY when fast[t-1] < slow[t-1] and fast[t] > slow[t];
  SELL when fast[t-1] > slow[t-1] and fast[t] < slow[t];
- `macd_cross` {fast, slow, signal}: the same with the MACD line against its signal line;
- `rsi_threshold` {period, lower, upper}: BUY when RSI[t] < lower; SELL when RSI[t] > upper;
- `bollinger_reversion` {period, k}: BUY when close[t] < the lower band; SELL when above the upper.
Every other bar is HOLD.
"""

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.indicators.compute import Floats
from app.indicators.spec import MAX_PERIOD, InvalidIndicator, parse
from app.strategies.models import SignalType

KindName = Literal["sma_cross", "ema_cross", "macd_cross", "rsi_threshold", "bollinger_reversion"]
Params = dict[str, int | float]
Columns = Mapping[str, Floats]
Decisions = npt.NDArray[np.int8]

HOLD, BUY, SELL = 0, 1, -1
TYPES = {HOLD: SignalType.HOLD, BUY: SignalType.BUY, SELL: SignalType.SELL}


class InvalidStrategyParams(InvalidInput):
    code = "invalid_strategy_params"
    message = "The strategy's parameters are not valid for its kind."


def plain(number: float) -> str:
    """A parameter as written: 2, 2.5, 30 (no trailing zeros, no exponent)."""
    return format(Decimal(str(number)).normalize(), "f")


@dataclass(frozen=True)
class Line:
    """A series a rule reads: a column of the indicator table, or a constant level."""

    label: str
    column: str | None = None
    level: float = 0.0
    places: int = 2

    def values(self, columns: Columns) -> Floats:
        if self.column is None:
            return np.full(len(columns["close"]), float(self.level))
        return columns[self.column]

    def describe(self, columns: Columns, i: int) -> str:
        if self.column is None:
            return plain(self.level)
        return f"{self.label} {columns[self.column][i]:.{self.places}f}"


class Rule(Protocol):
    @property
    def names(self) -> tuple[str, ...]:
        """The indicators it reads, named as app.indicators.spec parses them."""

    def decide(self, columns: Columns) -> Decisions:
        """BUY, SELL or HOLD on every bar."""

    def explain(self, columns: Columns, i: int, decision: int) -> list[str]:
        """Why bar i got its decision, in words with the numbers."""

    def seen(self, columns: Columns, i: int) -> dict[str, float | None]:
        """The values the decision on bar i read (None where there was none)."""


@dataclass(frozen=True)
class Cross:
    """BUY on the bar where `fast` crosses above `slow`, SELL where it crosses below."""

    names: tuple[str, ...]
    fast: Line
    slow: Line

    def decide(self, columns: Columns) -> Decisions:
        a, b = self.fast.values(columns), self.slow.values(columns)
        a0, b0 = _previous(a), _previous(b)
        with np.errstate(invalid="ignore"):
            return _decisions((a0 < b0) & (a > b), (a0 > b0) & (a < b))

    def explain(self, columns: Columns, i: int, decision: int) -> list[str]:
        if (missing := _missing(columns, i, (self.fast, self.slow))) is not None:
            return [missing]
        a, b = self.fast.describe(columns, i), self.slow.describe(columns, i)
        if decision == BUY:
            return [f"{a} crossed above {b}"]
        if decision == SELL:
            return [f"{a} crossed below {b}"]
        x, y = self.fast.values(columns)[i], self.slow.values(columns)[i]
        side = "above" if x > y else "below" if x < y else "level with"
        return [f"{a} {side} {b}: no crossing"]

    def seen(self, columns: Columns, i: int) -> dict[str, float | None]:
        lines = (self.fast, self.slow)
        now = _seen(columns, i, lines)
        before = _seen(columns, i - 1, lines) if i else dict.fromkeys(now)
        return now | {f"{k}_prev": v for k, v in before.items()}


@dataclass(frozen=True)
class Band:
    """BUY when `value` is below `lower`, SELL when it is above `upper`."""

    names: tuple[str, ...]
    value: Line
    lower: Line
    upper: Line

    def decide(self, columns: Columns) -> Decisions:
        x, lower, upper = (line.values(columns) for line in (self.value, self.lower, self.upper))
        with np.errstate(invalid="ignore"):
            return _decisions(x < lower, x > upper)

    def explain(self, columns: Columns, i: int, decision: int) -> list[str]:
        if (missing := _missing(columns, i, (self.value, self.lower, self.upper))) is not None:
            return [missing]
        x, lower, upper = (
            line.describe(columns, i) for line in (self.value, self.lower, self.upper)
        )
        if decision == BUY:
            return [f"{x} below {lower}"]
        if decision == SELL:
            return [f"{x} above {upper}"]
        return [f"{x} between {lower} and {upper}"]

    def seen(self, columns: Columns, i: int) -> dict[str, float | None]:
        return _seen(columns, i, (self.value, self.lower, self.upper))


def _previous(values: Floats) -> Floats:
    out = np.full_like(values, np.nan)
    out[1:] = values[:-1]
    return out


def _decisions(buy: npt.NDArray[np.bool_], sell: npt.NDArray[np.bool_]) -> Decisions:
    return np.where(buy, BUY, np.where(sell, SELL, HOLD)).astype(np.int8)


def _missing(columns: Columns, i: int, lines: tuple[Line, ...]) -> str | None:
    for line in lines:
        if line.column is not None and not math.isfinite(columns[line.column][i]):
            return f"{line.label} not available yet: too few bars before this one"
    return None


def _seen(columns: Columns, i: int, lines: tuple[Line, ...]) -> dict[str, float | None]:
    values = {line.column: float(columns[line.column][i]) for line in lines if line.column}
    return {k: v if math.isfinite(v) else None for k, v in values.items()}


def _average_cross(kind: str, label: str) -> Callable[[Params], Rule]:
    def build(p: Params) -> Rule:
        fast, slow = f"{kind}_{p['fast']}", f"{kind}_{p['slow']}"
        return Cross(
            (fast, slow),
            Line(f"{label}({p['fast']})", fast),
            Line(f"{label}({p['slow']})", slow),
        )

    return build


def _macd_cross(p: Params) -> Rule:
    name = f"macd_{p['fast']}_{p['slow']}_{p['signal']}"
    label = f"MACD({p['fast']}, {p['slow']}, {p['signal']})"
    return Cross(
        (name,), Line(label, name, places=4), Line("its signal line", f"{name}_signal", places=4)
    )


def _rsi_threshold(p: Params) -> Rule:
    name = f"rsi_{p['period']}"
    return Band(
        (name,),
        Line(f"RSI({p['period']})", name),
        Line("lower", level=p["lower"]),
        Line("upper", level=p["upper"]),
    )


def _bollinger_reversion(p: Params) -> Rule:
    k = plain(p["k"])
    name = f"bbands_{p['period']}_{k}"
    bands = f"Bollinger band({p['period']}, {k})"
    return Band(
        (name,),
        Line("close", "close"),
        Line(f"the lower {bands}", f"{name}_lower"),
        Line(f"the upper {bands}", f"{name}_upper"),
    )


def _fast_below_slow(p: Params) -> str | None:
    if p["fast"] < p["slow"]:
        return None
    return f"fast ({p['fast']}) must be less than slow ({p['slow']})"


def _thresholds_inside(p: Params) -> str | None:
    if 0 < p["lower"] < p["upper"] < 100:
        return None
    lower, upper = plain(p["lower"]), plain(p["upper"])
    return f"0 < lower < upper < 100 must hold (lower {lower}, upper {upper})"


def _k_positive(p: Params) -> str | None:
    return None if p["k"] > 0 else f"k ({plain(p['k'])}) must be above 0"


@dataclass(frozen=True)
class Kind:
    params: tuple[str, ...]
    reals: frozenset[str]  # numbers; the other parameters are whole periods
    check: Callable[[Params], str | None]  # how the parameters must relate, or why they do not
    rule: Callable[[Params], Rule]


KINDS: dict[str, Kind] = {
    "sma_cross": Kind(
        ("fast", "slow"), frozenset(), _fast_below_slow, _average_cross("sma", "SMA")
    ),
    "ema_cross": Kind(
        ("fast", "slow"), frozenset(), _fast_below_slow, _average_cross("ema", "EMA")
    ),
    "macd_cross": Kind(("fast", "slow", "signal"), frozenset(), _fast_below_slow, _macd_cross),
    "rsi_threshold": Kind(
        ("period", "lower", "upper"),
        frozenset({"lower", "upper"}),
        _thresholds_inside,
        _rsi_threshold,
    ),
    "bollinger_reversion": Kind(
        ("period", "k"), frozenset({"k"}), _k_positive, _bollinger_reversion
    ),
}


def rule(kind: str, params: Params) -> Rule:
    """The signal rule of a kind with (validated) parameters."""
    return KINDS[kind].rule(params)


def validate(kind: str, params: Mapping[str, Any]) -> Params:
    """The kind's parameters, checked and in its order; InvalidStrategyParams saying which
    is wrong and why."""
    spec = KINDS[kind]
    takes = f"{kind} takes {', '.join(spec.params)}"
    if unknown := sorted(set(params) - set(spec.params)):
        raise _invalid(kind, f"unknown parameter {', '.join(unknown)}; {takes}")
    if missing := [name for name in spec.params if name not in params]:
        raise _invalid(kind, f"missing {', '.join(missing)}; {takes}")
    clean = {name: _number(kind, name, params[name], name in spec.reals) for name in spec.params}
    if (problem := spec.check(clean)) is not None:
        raise _invalid(kind, problem)
    for name in spec.rule(clean).names:  # TA-Lib's own limits, as the indicators check them
        try:
            parse(name)
        except InvalidIndicator as exc:
            raise _invalid(kind, f"{name}: {exc.details['reason']}") from exc
    return clean


def validate_value(kind: str, name: str, value: Any) -> int | float:
    """One parameter's value, checked on its own (not against the others)."""
    spec = KINDS[kind]
    if name not in spec.params:
        raise _invalid(kind, f"unknown parameter {name}; {kind} takes {', '.join(spec.params)}")
    return _number(kind, name, value, name in spec.reals)


def _number(kind: str, name: str, value: Any, real: bool) -> int | float:
    if real:
        if isinstance(value, int | float) and not isinstance(value, bool):
            with_fraction = float(value) if abs(value) < 1e300 else math.inf
            if math.isfinite(with_fraction):
                return int(value) if with_fraction.is_integer() else with_fraction
        raise _invalid(kind, f"{name} must be a number, like 30 or 2.5")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_PERIOD:
        return value
    raise _invalid(kind, f"{name} must be a whole number from 1 to {MAX_PERIOD}")


def _invalid(kind: str, reason: str) -> InvalidStrategyParams:
    return InvalidStrategyParams(
        f"Invalid {kind} parameters: {reason}.", details={"kind": kind, "reason": reason}
    )

"""A strategy kind's decisions on one ticker's bars for many parameter sets at once.

Indicators are computed over the range's bars only, as the backtesting library whose
conventions Folio follows does, and each one once for every combination that reads it. A
combination decides from the first bar after all its indicators have warmed up.
"""

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from app.core.errors import InvalidInput
from app.indicators.compute import Floats, compute, contiguous
from app.indicators.spec import parse
from app.market.history import Adjusted
from app.strategies import kinds
from app.strategies.kinds import HOLD, InvalidStrategyParams, Params

MAX_COMBINATIONS = 10_000


class TooManyCombinations(InvalidInput):
    code = "too_many_combinations"
    message = f"A sweep's grid has at most {MAX_COMBINATIONS:,} combinations."


class TooFewBars(InvalidInput):
    code = "too_few_bars"
    message = "The range has too few bars for the strategy's warm-up."


@dataclass(frozen=True)
class Grid:
    combinations: list[Params]  # each valid for the kind
    skipped: int  # those the kind forbids


def expand(kind: str, params: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]) -> Grid:
    """Every combination of the grid's values (the other parameters from `params`). A value
    that is wrong on its own is refused; a combination the kind forbids is skipped."""
    fixed = {name: kinds.validate_value(kind, name, v) for name, v in params.items()}
    values = {name: [kinds.validate_value(kind, name, v) for v in vs] for name, vs in grid.items()}
    if missing := [p for p in kinds.KINDS[kind].params if p not in fixed and p not in values]:
        raise InvalidStrategyParams(
            f"Invalid grid: no value for {', '.join(missing)}.",
            details={"kind": kind, "reason": f"missing {', '.join(missing)}"},
        )
    count = int(np.prod([len(v) for v in values.values()]))
    if count > MAX_COMBINATIONS:
        raise TooManyCombinations(details={"combinations": count, "limit": MAX_COMBINATIONS})
    found: list[Params] = []
    forbidden: InvalidStrategyParams | None = None
    for combination in itertools.product(*values.values()):
        try:
            found.append(kinds.validate(kind, fixed | dict(zip(values, combination, strict=True))))
        except InvalidStrategyParams as exc:
            forbidden = exc
    if not found and forbidden is not None:
        raise InvalidStrategyParams(
            f"Every combination of the grid is forbidden: {forbidden.message}",
            details=forbidden.details,
        )
    return Grid(found, count - len(found))


class Decider:
    """The bars' indicator columns, each computed once, and each combination's decisions."""

    def __init__(self, bars: Adjusted) -> None:
        self.bars = contiguous(bars)
        self.columns: dict[str, Floats] = {"close": self.bars.close}
        self.warm: dict[str, int] = {}  # indicator name: the first bar all its columns have

    def decisions(self, kind: str, params: Params) -> npt.NDArray[np.int8] | None:
        """BUY, SELL or HOLD on each bar; None when the bars never warm the indicators up."""
        rule = kinds.rule(kind, params)
        start = 1 + max(self._warm(name) for name in rule.names)
        if start > len(self.bars.close) - 2:  # no decision left that could fill
            return None
        decided = rule.decide(self.columns)
        decided[:start] = HOLD
        return decided

    def _warm(self, name: str) -> int:
        if name not in self.warm:
            columns = compute(self.bars, [parse(name)])
            self.columns |= columns
            self.warm[name] = max(_first_value(column) for column in columns.values())
        return self.warm[name]


def _first_value(column: Floats) -> int:
    missing = np.isnan(column)
    return len(column) if missing.all() else int(missing.argmin())


def combinations(decider: Decider, kind: str, grid: Grid) -> Iterator[tuple[Params, Any]]:
    """Each combination with its decisions (None: too few bars for it)."""
    for params in grid.combinations:
        yield params, decider.decisions(kind, params)

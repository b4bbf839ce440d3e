"""Time from spawning the server process to its first served /health."""

import statistics

from bench.harness import BARE_APP, FOLIO_APP, Aim, Context, Row, time_to_first_health

RUNS = 3


def run(ctx: Context) -> list[Row]:
    bare: list[float] = []
    folio: list[float] = []
    for _ in range(RUNS):
        bare.append(time_to_first_health(BARE_APP))
        folio.append(time_to_first_health(FOLIO_APP, ctx.folio_env()))
    return [
        Row(
            "start to first /health (median of 3)",
            statistics.median(folio),
            "s",
            baseline=statistics.median(bare),
            aim=Aim("<=", 3.0, on_ratio=False),
        )
    ]

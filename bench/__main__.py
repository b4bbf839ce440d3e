"""`python -m bench [MODULE ...]`: run the benchmark modules and print one table."""

import argparse
import importlib
import os
import pkgutil
import shutil
from collections.abc import Callable
from typing import cast

import redis

import bench
from bench.harness import HTTPX_CONNECTIONS, REDIS_URL, Context, Row, scratch_postgres

Benchmark = Callable[[Context], list[Row]]


def discover(only: list[str]) -> dict[str, Benchmark]:
    """Every module of the package that defines `run(ctx)`; helpers and baselines do not."""
    modules = {
        m.name: importlib.import_module(f"bench.{m.name}")
        for m in pkgutil.iter_modules(bench.__path__)
        if not m.name.startswith("_")
    }
    names = sorted(name for name, module in modules.items() if hasattr(module, "run"))
    unknown = set(only) - set(names)
    if unknown:
        raise SystemExit(f"no benchmark module named {', '.join(sorted(unknown))}; have {names}")
    return {n: cast(Benchmark, modules[n].run) for n in names if not only or n in only}


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:#.3g}"


def render(rows: list[Row]) -> str:
    header = ("figure", "value", "baseline", "ratio", "aim", "met")
    cells = [header]
    for row in rows:
        ratio = row.ratio
        met = row.aim.met(row.value, ratio) if row.aim else None
        cells.append(
            (
                row.figure,
                f"{_number(row.value)} {row.unit}",
                f"{_number(row.baseline)} {row.unit}" if row.baseline else "-",
                f"{ratio:.2f}" if ratio is not None else "-",
                row.aim.describe(row.unit) if row.aim else "-",
                {True: "yes", False: "NO", None: "-"}[met],
            )
        )
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("modules", nargs="*", help="benchmark modules to run (default: all)")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each load run")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections")
    args = parser.parse_args()
    benchmarks = discover(args.modules)
    load_before = os.getloadavg()[0]
    redis.Redis.from_url(REDIS_URL).flushdb()
    rows: list[Row] = []
    with scratch_postgres() as database_url:
        ctx = Context(database_url, REDIS_URL, args.seconds, args.connections)
        for name, run in benchmarks.items():
            print(f"running bench.{name} ...", flush=True)
            rows += run(ctx)
    driver = (
        f"wrk -t2, {args.connections} connections"
        if shutil.which("wrk")
        else f"httpx, {min(args.connections, HTTPX_CONNECTIONS)} connections (client-bound: "
        "install wrk for real figures)"
    )
    busy = "  (a busy machine: figures not comparable)" if load_before >= 1 else ""
    print()
    print(render(rows))
    print()
    print("one uvicorn worker each; baseline: a bare FastAPI app with one route, same run")
    print(f"load: {driver}, {args.seconds:g} s per run")
    print(f"{os.cpu_count()} CPUs, load average {load_before:.1f} before the run{busy}")


if __name__ == "__main__":
    main()

"""The fuzzing budget (`--fuzz-examples`) and the counts printed at the end of a run."""

from collections import Counter
from dataclasses import dataclass, field

import pytest

DEFAULT_EXAMPLES = 8
# Read by the test module at import; pytest_configure runs before it is collected.
EXAMPLES = DEFAULT_EXAMPLES


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help=f"schemathesis examples per operation and persona (default {DEFAULT_EXAMPLES}; "
        "`make fuzz` uses 500)",
    )


def pytest_configure(config: pytest.Config) -> None:
    global EXAMPLES
    # The option exists only when this directory was named on the command line.
    EXAMPLES = int(config.getoption("fuzz_examples", default=DEFAULT_EXAMPLES))


@dataclass
class FuzzTally:
    """What the fuzzer sent and got back, for the summary at the end."""

    operations: set[str] = field(default_factory=set)
    cases: int = 0
    stateful_calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    auth_checked: set[str] = field(default_factory=set)
    failures: set[str] = field(default_factory=set)


TALLY = FuzzTally()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.cases and not TALLY.stateful_calls:
        return
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(TALLY.statuses.items()))
    write = terminalreporter.write_line
    terminalreporter.section("schemathesis")
    write(f"operations covered: {len(TALLY.operations)}")
    write(f"cases run: {TALLY.cases} (+ {TALLY.stateful_calls} calls in stateful scenarios)")
    write(f"responses by status: {statuses}")
    write(f"server errors: {TALLY.server_errors}")
    probed = {label.rsplit(" (", 1)[0] for label in TALLY.auth_checked}
    write(
        f"no/forged credentials refused (401/403) on {len(probed)} signed-in operations "
        f"({sum('(cookie)' in a for a in TALLY.auth_checked)} by cookie, "
        f"{sum('(bearer)' in a for a in TALLY.auth_checked)} by bearer)"
    )
    write(f"failed checks (schema violations, auth, server errors): {len(TALLY.failures)}")
    for failure in sorted(TALLY.failures)[:40]:
        write(f"  {failure}")

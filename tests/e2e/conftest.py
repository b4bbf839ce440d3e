"""A real `folio serve` on the demo data and Debian's chromium driven by Playwright.

The dashboard must be built (`make web`; `make test` builds it when Node is present) and
chromium installed (`apt-get install chromium`); without either these tests are skipped and
say why. Screenshots of every screen go to E2E_SCREENSHOTS (default: a folder of the test
run, printed at the end).
"""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app import dashboard

CHROMIUM = Path("/usr/bin/chromium")
FOLIO = Path(sys.executable).with_name("folio")


@dataclass(frozen=True)
class Served:
    url: str
    accounts: dict[str, tuple[str, str]]  # role: (email, password)
    portfolios: list[str]
    screenshots: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    if not (dashboard.DIST / "index.html").is_file():
        pytest.skip("the dashboard is not built (make web)")
    home = tmp_path_factory.mktemp("e2e")
    env = os.environ | {
        "DATABASE_URL": f"sqlite+aiosqlite:///{home / 'folio.db'}",
        "ENVIRONMENT": "development",
        "MARKET_DATA_PROVIDER": "simulated",
        "LOG_DIR": "",
        "SECRET_KEY": "e2e-" + "k" * 60,
        "FIRST_SUPERUSER_EMAIL": "admin@e2e.example",
        "FIRST_SUPERUSER_PASSWORD": "quiet harbor lantern 42",
    }
    for name in ("REDIS_URL", "TIINGO_API_KEY", "POLYGON_API_KEY"):
        env.pop(name, None)
    subprocess.run([FOLIO, "db", "upgrade"], env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [FOLIO, "demo", "seed"], env=env, check=True, capture_output=True, text=True
    ).stdout
    accounts = {
        role: (email, password)
        for email, password, role in re.findall(r"^\s+(\S+@\S+)\s+(\S+)\s+(\w+)$", seeded, re.M)
    }
    accounts["admin"] = (env["FIRST_SUPERUSER_EMAIL"], env["FIRST_SUPERUSER_PASSWORD"])
    portfolios = re.findall(r"^\s+([a-z0-9-]+)\s+\d+ trades", seeded, re.M)
    port = _free_port()
    log = (home / "serve.log").open("w")
    server = subprocess.Popen(
        [FOLIO, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, server, home / "serve.log")
        shots = Path(os.environ.get("E2E_SCREENSHOTS") or tmp_path_factory.mktemp("screens"))
        shots.mkdir(parents=True, exist_ok=True)
        yield Served(url, accounts, portfolios, shots)
        print(f"\nDashboard screenshots: {shots}")
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"folio serve did not start:\n{log.read_text()[-3000:]}")

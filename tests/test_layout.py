"""The code's layout rules that a reader should not have to check by eye."""

import ast
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
# The composition root, and the request's unit of work beside it, read the app's state.
STATE_READERS = {APP / "state.py", APP / "core" / "database.py"}


def _modules() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_only_the_composition_root_reads_the_app_state() -> None:
    readers = {p for p in _modules() if "app.state." in p.read_text()}
    assert readers - STATE_READERS - {APP / "main.py"} == set()


def test_services_do_not_import_fastapi() -> None:
    services = [p for p in _modules() if p.name == "service.py" or p.parent.name == "ledger"]
    importing = []
    for path in services:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "fastapi":
                importing.append(path.relative_to(APP))
            if isinstance(node, ast.Import) and any(a.name == "fastapi" for a in node.names):
                importing.append(path.relative_to(APP))
    assert services and importing == []


def test_only_the_price_history_reader_reads_the_bars() -> None:
    """Prices over dates come through one reader (app/market/history.py over its store)."""
    readers = {APP / "market" / name for name in ("store.py", "history.py", "models.py")}
    touching = {p for p in _modules() if re.search(r"\bPriceBar\b|\bprice_bars\b", p.read_text())}
    assert touching - readers - {APP / "models.py"} == set()

"""The dashboard in Debian's chromium against a real `folio serve` on the demo data: sign in
with the keyboard, book a trade and see the position and the NAV change, import a CSV with
an error and see its row named, run a backtest and see its chart, and every screen drawn
with each form control labelled (a screenshot of each)."""

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Response, expect, sync_playwright

from tests.e2e.conftest import CHROMIUM, Served

FIRST_SCREEN_BUDGET = 250_000  # bytes, gzipped
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(e => e.type !== 'hidden' && e.labels.length === 0
    && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML)"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


def signed_in(browser: Browser, served: Served, role: str) -> Page:
    """A page signed in as the demo account of `role`, by the keyboard alone."""
    page = browser.new_context(
        base_url=served.url, viewport={"width": 1400, "height": 900}
    ).new_page()
    page.goto("/app/")
    expect(page.get_by_role("heading", name="Sign in to Folio")).to_be_visible()
    email, password = served.accounts[role]
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    return page


def screen(page: Page, served: Served, name: str) -> None:
    """Every form control of the screen is labelled; its picture is kept."""
    page.wait_for_load_state("networkidle")
    assert page.evaluate(UNLABELLED) == [], name
    expect(page.locator(".error-box, [role=alert]")).to_have_count(0)
    page.screenshot(path=str(served.screenshots / f"{name}.png"), full_page=True)


def nav_of(page: Page, portfolio: str) -> str:
    card = page.locator("article.portfolio-card", has=page.get_by_role("link", name=portfolio))
    nav = card.locator("dt:text-is('NAV') + dd")
    expect(nav).not_to_have_text("")
    return nav.inner_text()


def test_a_trade_booked_shows_in_the_position_and_the_nav(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "portfolio_manager")
    name = page.locator("article.portfolio-card h2 a").first.inner_text()
    before = nav_of(page, name)
    screen(page, served, "overview")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    row = page.locator("tr", has=page.get_by_role("cell", name="MSFT", exact=True))
    held = row.count()

    page.get_by_role("link", name="Trades & cash").click()
    page.get_by_label("Ticker", exact=True).first.fill("MSFT")
    page.get_by_label("Quantity").first.fill("10")
    page.get_by_label("Price (USD)").fill("1")
    page.get_by_label("Trade date").fill("2026-11-02")
    page.get_by_role("button", name="Book trade").click()
    expect(page.get_by_role("status").filter(has_text="Booked trade #")).to_be_visible()
    screen(page, served, "trades")

    page.get_by_role("link", name="Positions").click()
    expect(page.locator("tr", has=page.get_by_role("cell", name="MSFT", exact=True))).to_have_count(
        max(held, 1)
    )
    screen(page, served, "positions")
    page.get_by_role("link", name="Overview").click()
    expect(
        page.locator("article.portfolio-card", has=page.get_by_role("link", name=name)).locator(
            "dt:text-is('NAV') + dd"
        )
    ).not_to_have_text(before)


def test_a_csv_with_an_error_names_its_row(
    browser: Browser, served: Served, tmp_path: Path
) -> None:
    page = signed_in(browser, served, "portfolio_manager")
    page.locator("article.portfolio-card h2 a").first.click()
    page.get_by_role("link", name="Trades & cash").click()
    csv = tmp_path / "trades.csv"
    csv.write_text(
        "trade_date,ticker,side,quantity,price\n"
        "2026-11-03,AAPL,buy,5,190\n"
        "2026-11-04,AAPL,buy,many,190\n"
    )
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Import").click()
    errors = page.locator("table.csv-errors")
    expect(errors.locator("caption")).to_have_text("1 row with errors")
    expect(errors.locator("tbody tr td").first).to_have_text("3")
    page.screenshot(path=str(served.screenshots / "import-errors.png"), full_page=True)


def test_a_backtest_runs_and_draws_its_chart(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "analyst")
    page.get_by_role("link", name="Backtests").click()
    page.get_by_label("Ticker").fill("AAPL")
    page.get_by_role("button", name="Run backtest").click()
    view = page.locator("section[aria-labelledby=bt-view-title]")
    expect(view).to_contain_text("status succeeded", timeout=30_000)
    expect(page.locator("canvas").first).to_be_visible()
    recent = page.get_by_role("navigation", name="Recent backtests")
    expect(recent).to_contain_text("succeeded")
    screen(page, served, "backtests")


def test_every_screen_draws(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "portfolio_manager")
    slug = served.portfolios[0]
    tabs = {
        "performance": "performance",
        "allocation": "allocation",
        "lots": "lots",
        "dividends": "dividends",
        "orders": "orders",
        "policy": "policy",
    }
    for path, name in tabs.items():
        page.goto(f"/app/portfolios/{slug}/{path}")
        screen(page, served, name)
    page.goto("/app/instruments/AAPL")
    expect(page.locator("canvas").first).to_be_visible()  # the candles
    screen(page, served, "instrument")
    page.goto("/app/strategies")
    screen(page, served, "strategies")
    admin = signed_in(browser, served, "admin")
    admin.goto("/app/admin")
    screen(admin, served, "admin")


def test_the_first_screen_is_small(browser: Browser, served: Served) -> None:
    """Everything the sign-in screen loads (page, scripts, styles) under 250 kB gzipped."""
    page = browser.new_context(base_url=served.url).new_page()
    loaded: list[Response] = []
    page.on("response", lambda r: loaded.append(r) if "/app" in r.url else None)
    page.goto("/app/")
    expect(page.get_by_role("heading", name="Sign in to Folio")).to_be_visible()
    page.wait_for_load_state("networkidle")
    sizes = {r.url: len(gzip.compress(r.body(), 6)) for r in loaded if r.ok}
    assert any(url.endswith(".js") for url in sizes)
    assert sum(sizes.values()) < FIRST_SCREEN_BUDGET, sizes


def test_a_trade_is_booked_with_the_keyboard_alone(browser: Browser, served: Served) -> None:
    page = signed_in(browser, served, "analyst")
    page.keyboard.press("Tab")  # the skip link first, then the header's links
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    slug = served.portfolios[1]
    page.goto(f"/app/portfolios/{slug}/trades")
    page.get_by_label("Ticker", exact=True).first.focus()
    page.keyboard.type("KO")
    page.keyboard.press("Tab")  # side: buy
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("50")
    page.keyboard.press("Tab")  # fees
    page.keyboard.press("Tab")
    page.keyboard.type("11022026")  # the date field, as typed: mm dd yyyy
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Booked trade #")).to_be_visible()

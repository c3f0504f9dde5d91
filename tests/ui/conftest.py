"""Browser tests: Debian's Chromium driven by Playwright against the demo company served
by uvicorn on a free port (tests/ui/server.py). Playwright never downloads a browser:
``make test`` installs Debian's ``chromium`` package when it is missing
(scripts/browser.sh). Screenshots of every page go to tests/artifacts/ui/."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright

from tests.contracts.store_kit import fast_dir

from .server import DemoServer, demo_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "ui"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 375, "height": 740}

ALEX = "user:alex.chen@northwind.example"       # platform engineer
SAM = "user:sam.ortiz@northwind.example"        # contractor on platform
JORDAN = "user:jordan.lee@northwind.example"    # HR generalist, not HR-confidential
DANA = "user:dana.kim@northwind.example"        # new hire, no groups
LENA = "user:lena.fischer@northwind.example"    # the demo admin

ADMIN_PAGES = ("sources", "groups", "documents", "keys", "audit")


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with fast_dir(tmp_path_factory.mktemp("ui")) as where, demo_server(where) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/browser.sh` (or `make test`), "
                    "which installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


SignIn = Callable[..., Page]


@pytest.fixture
def sign_in(browser: Browser, demo: DemoServer) -> Iterator[SignIn]:
    """``sign_in(user_id, viewport=…)``: a fresh browser context signed in through the demo
    picker, on the ask page (``None``: signed out, on a blank page). A script error on any page fails the test."""
    contexts = []
    errors: list[str] = []

    def open_as(user_id: str | None, *, viewport: ViewportSize | None = None) -> Page:
        context = browser.new_context(base_url=demo.base_url, viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
        if user_id is None:
            return page
        page.goto("/sign-in")
        name = demo.users[user_id].name
        page.get_by_role("button", name=re.compile(re.escape(name))).click()
        page.wait_for_url(f"{demo.base_url}/")
        expect(page.locator("#who")).to_contain_text(name)
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not errors, errors


def ask(page: Page, question: str) -> None:
    """Type a question and press Enter; return once the final answer is rendered."""
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")
    page.locator("#result .answer-card:not([aria-busy]), #result .abstain-card, "
                 "#result .error-card").first.wait_for()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"]
            if v.get("impact") in {"serious", "critical"}]


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return int(page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"))


def first_paint_ms(page: Page) -> float:
    """When the page's first content was painted, in ms from the start of its navigation."""
    return float(page.evaluate(
        "performance.getEntriesByName('first-contentful-paint')[0].startTime"))

"""Every page, at desktop width and at 375 px: axe finds no serious or critical
violation, nothing scrolls sideways, the first paint comes within a second on loopback,
and a screenshot of each goes to tests/artifacts/ui/."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, ViewportSize, expect

from .conftest import (
    ALEX,
    DESKTOP,
    JORDAN,
    LENA,
    PHONE,
    SignIn,
    ask,
    first_paint_ms,
    horizontal_overflow,
    serious_violations,
    shot,
)
from .server import DemoServer


def _sign_in_page(sign_in: SignIn, demo: DemoServer, viewport: ViewportSize) -> Page:
    page = sign_in(None, viewport=viewport)
    page.goto("/sign-in")
    expect(page.locator(".user-pick").first).to_be_visible()
    return page


def _answer(sign_in: SignIn, demo: DemoServer, viewport: ViewportSize) -> Page:
    page = sign_in(ALEX, viewport=viewport)
    ask(page, "What is the status of PRJ-ORCA-7?")
    page.locator("#result .cite").first.click()
    expect(page.locator("#quote-panel")).to_be_visible()
    page.locator("#result .thumb").first.click()
    expect(page.locator("#recent li").first).to_be_visible()
    return page


def _abstention(sign_in: SignIn, demo: DemoServer, viewport: ViewportSize) -> Page:
    page = sign_in(JORDAN, viewport=viewport)
    ask(page, "What is the salary band for an IC3 software engineer?")
    expect(page.locator("#result .abstain-card")).to_be_visible()
    return page


def _admin(name: str, ready: str) -> Callable[[SignIn, DemoServer, ViewportSize], Page]:
    def open_page(sign_in: SignIn, demo: DemoServer, viewport: ViewportSize) -> Page:
        page = sign_in(LENA, viewport=viewport)
        page.goto(f"/admin/{name}")
        expect(page.locator(ready).first).to_be_visible()
        return page
    return open_page


def _groups(sign_in: SignIn, demo: DemoServer, viewport: ViewportSize) -> Page:
    page = _admin("groups", ".group-card")(sign_in, demo, viewport)
    card = page.locator(".group-card", has_text="group:engineering")
    card.locator("summary").first.click()
    nested = card.locator("details.nested").first
    nested.locator("summary").click()
    expect(nested.locator(".members")).to_be_visible()
    return page


def _inspector(sign_in: SignIn, demo: DemoServer, viewport: ViewportSize) -> Page:
    found = httpx.get(f"{demo.base_url}/v1/documents", params={"q": "prj-orca-7"},
                      headers={"Authorization": f"Bearer {demo.admin_key}"}).json()
    doc_id = found["documents"][0]["doc_id"]
    page = sign_in(LENA, viewport=viewport)
    page.goto(f"/admin/documents?q=orca&doc={doc_id}")
    expect(page.locator("#inspector .readers").first).to_be_visible()
    page.locator("#can-read-user").fill("sam.ortiz@northwind.example")
    page.get_by_role("button", name="Explain").click()
    expect(page.locator(".verdict")).to_contain_text("Can't read it")
    return page


def _denied(sign_in: SignIn, demo: DemoServer, viewport: ViewportSize) -> Page:
    page = sign_in(ALEX, viewport=viewport)
    page.goto("/admin/sources")
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    return page


PAGES: dict[str, Callable[[SignIn, DemoServer, ViewportSize], Page]] = {
    "sign-in": _sign_in_page,
    "ask-answer": _answer,
    "ask-abstention": _abstention,
    "admin-sources": _admin("sources", ".source-card"),
    "admin-groups": _groups,
    "admin-documents": _inspector,
    "admin-keys": _admin("keys", "#keys table"),
    "admin-audit": _admin("audit", "#audit table"),
    "admin-denied": _denied,
}


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_serious_accessibility_violation_and_fits_a_phone(
        name: str, sign_in: SignIn, demo: DemoServer) -> None:
    page = PAGES[name](sign_in, demo, DESKTOP)
    shot(page, f"{name}-desktop")
    violations = serious_violations(page)
    assert violations == [], violations
    assert horizontal_overflow(page) == 0
    assert first_paint_ms(page) < 1000

    phone = PAGES[name](sign_in, demo, PHONE)
    shot(phone, f"{name}-375px")
    assert horizontal_overflow(phone) == 0, f"{name} scrolls sideways at 375 px"
    violations = serious_violations(phone)
    assert violations == [], violations

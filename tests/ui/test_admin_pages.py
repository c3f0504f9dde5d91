"""The admin pages in a real browser: the API decides who is an admin; the inspector
explains and changes who may read a document, effective for the next question."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Route, expect

from .conftest import ADMIN_PAGES, ALEX, LENA, SAM, SignIn, ask, shot
from .server import DemoServer

ON_CALL_QUESTION = "How much is the on-call stipend per week?"
ADMIN_ROUTES = r"/v1/(sources|groups|keys|audit|documents|principals)\b"


def test_admin_denies_a_contractor_a_document_and_their_next_question_no_longer_cites_it(
        sign_in: SignIn) -> None:
    sam = sign_in(SAM)
    ask(sam, ON_CALL_QUESTION)
    expect(sam.locator("#result .sources")).to_contain_text("On-call Handbook")

    admin = sign_in(LENA)
    admin.goto("/admin/documents")
    admin.get_by_label("Title or path").fill("on-call")
    admin.get_by_role("button", name="Search").click()
    admin.get_by_role("button", name=re.compile("On-call Handbook")).click()
    inspector = admin.locator("#inspector")
    expect(inspector.locator(".readers")).to_contain_text("sam.ortiz@northwind.example")

    inspector.get_by_label("User email").fill("sam.ortiz@northwind.example")
    inspector.get_by_role("button", name="Explain").click()
    expect(inspector.locator(".verdict")).to_contain_text("Can read it")

    inspector.get_by_label("Denied (wins over allowed)").fill("group:contractors")
    with admin.expect_response(re.compile(r"/documents/.+/acl$")) as saved:
        inspector.get_by_role("button", name="Save access rules").click()
    assert saved.value.status == 200
    expect(inspector.locator("#acl-note")).to_contain_text("Saved")
    expect(inspector).to_contain_text("Kept out by a deny rule")
    inspector.get_by_label("User email").fill("sam.ortiz@northwind.example")
    inspector.get_by_role("button", name="Explain").click()
    expect(inspector.locator(".verdict")).to_contain_text("Can't read it")
    expect(inspector.locator(".verdict")).to_contain_text("group:contractors")
    shot(admin, "admin-documents-inspector")

    ask(sam, ON_CALL_QUESTION)
    assert "on-call-handbook" not in sam.locator("#result").inner_html()
    assert "on-call-handbook" not in sam.content()
    assert "On-call Handbook" not in sam.content()


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_a_non_admin_opening_an_admin_page_gets_nothing_of_it(
        sign_in: SignIn, name: str) -> None:
    page = sign_in(ALEX)
    expect(page.locator("#admin-link")).to_be_hidden()
    admin_calls: list[str] = []
    page.on("request", lambda request: admin_calls.append(request.url)
            if re.search(ADMIN_ROUTES, request.url) else None)
    page.goto(f"/admin/{name}")
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
    expect(page.locator("#admin-area")).to_have_count(0)
    assert admin_calls == []


def test_a_non_admin_key_gets_403_from_every_admin_route(demo: DemoServer) -> None:
    key = demo.users[ALEX].key
    doc = "0" * 32
    routes = [("GET", "/v1/sources"), ("GET", "/v1/groups"), ("GET", "/v1/keys"),
              ("GET", "/v1/audit"), ("GET", "/v1/documents"), ("GET", f"/v1/documents/{doc}"),
              ("GET", f"/v1/documents/{doc}/access"),
              ("GET", f"/v1/principals/{SAM}/can-read/{doc}"),
              ("PUT", "/v1/groups/x"), ("POST", "/v1/sources/x/sync"),
              ("DELETE", "/v1/keys/x")]
    with httpx.Client(base_url=demo.base_url,
                      headers={"Authorization": f"Bearer {key}"}) as client:
        statuses = {path: client.request(method, path, json={}).status_code
                    for method, path in routes}
        statuses["POST /v1/keys"] = client.post("/v1/keys", json={
            "name": "mine", "scopes": ["admin"]}).status_code
    assert set(statuses.values()) == {403}, statuses


def test_signed_out_visitors_are_sent_to_sign_in(sign_in: SignIn) -> None:
    page = sign_in(None)
    page.goto("/admin/keys")
    page.wait_for_url(re.compile(r"/sign-in\?next=%2Fadmin%2Fkeys$"))
    expect(page.get_by_role("heading", name=re.compile("Sign in as a sample employee"))
           ).to_be_visible()
    expect(page.locator("#demo-title .tag")).to_have_text("Demo")


def test_admin_sees_sources_and_can_sync(sign_in: SignIn) -> None:
    page = sign_in(LENA)
    expect(page.locator("#admin-link")).to_be_visible()
    page.locator("#admin-link").click()
    page.wait_for_url(re.compile("/admin/sources$"))
    card = page.locator(".source-card").first
    expect(card).to_contain_text("demo-company")
    expect(card).to_contain_text("indexed")
    with page.expect_response(re.compile(r"/v1/sources/.+/sync$")) as synced:
        card.get_by_role("button", name="Sync now").click()
    assert synced.value.status == 202
    expect(page.locator("#status")).to_contain_text("Sync of demo-company started")
    expect(card.locator(".pill")).to_have_text("ok", timeout=30_000)
    expect(card).to_contain_text("55 unchanged")
    page.locator(".runs summary").first.click()
    expect(page.locator(".runs table").first).to_be_visible()
    shot(page, "admin-sources")


def test_admin_browses_nested_groups_and_a_users_groups(sign_in: SignIn) -> None:
    page = sign_in(LENA)
    page.goto("/admin/groups")
    page.get_by_label("Group name").fill("engineering")
    page.get_by_role("button", name="Search").click()
    group = page.locator(".group-card", has_text="group:engineering")
    group.locator("summary").first.click()
    nested = group.locator("details.nested", has_text="group:platform")
    nested.locator("summary").click()
    expect(nested).to_contain_text("alex.chen@northwind.example")
    page.get_by_label("User email").fill("sam.ortiz@northwind.example")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#user-groups")).to_contain_text("group:contractors")
    shot(page, "admin-groups")


def test_admin_creates_a_key_sees_it_once_and_revokes_it(
        sign_in: SignIn, demo: DemoServer) -> None:
    page = sign_in(LENA)
    page.goto("/admin/keys")
    page.get_by_label("Name", exact=True).fill("ui-test-bot")
    page.get_by_label("User (for query keys)").fill("dana.kim@northwind.example")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-key-value")
    expect(secret).to_have_text(re.compile(r"^ck_"))
    key = secret.inner_text()
    assert httpx.get(f"{demo.base_url}/v1/me", headers={"Authorization": f"Bearer {key}"}
                     ).json()["user_id"] == "user:dana.kim@northwind.example"
    shot(page, "admin-keys")
    page.reload()
    assert key not in page.content()  # shown once

    page.get_by_role("button", name="Revoke ui-test-bot").click()
    page.get_by_role("button", name="Yes, revoke").click()
    expect(page.get_by_role("button", name="Revoke ui-test-bot")).to_have_count(0)
    assert httpx.get(f"{demo.base_url}/v1/me", headers={"Authorization": f"Bearer {key}"}
                     ).status_code == 401


def test_admin_filters_the_audit_log(sign_in: SignIn) -> None:
    dana = sign_in("user:dana.kim@northwind.example")
    ask(dana, "What is the capital of Peru?")
    ask(sign_in(SAM), ON_CALL_QUESTION)  # answered, by someone else: filtered out
    page = sign_in(LENA)
    held: list[Route] = []  # the page's first, unfiltered load, answered last
    page.route(re.compile(r"/v1/audit\?limit=25$"),
               lambda route: held.append(route) if not held else route.continue_())
    page.goto("/admin/audit")
    page.get_by_label("User", exact=True).fill("dana.kim@northwind.example")
    page.get_by_label("Abstained").select_option("true")
    page.get_by_label("Kind").select_option("answer")
    with page.expect_response(re.compile(r"/v1/audit\?.*abstained")) as filtered:
        page.get_by_role("button", name="Apply").click()
    url = filtered.value.url
    assert "abstained=true" in url and "kind=answer" in url and "user=dana" in url
    rows = page.locator("#audit tbody tr")
    expect(rows.first).to_contain_text("What is the capital of Peru?")
    with page.expect_response(re.compile(r"/v1/audit\?limit=25$")):
        held[0].continue_()
    page.evaluate("() => new Promise((done) => setTimeout(done, 100))")  # let it land
    for text in rows.all_inner_texts():
        assert "dana.kim" in text and "abstained" in text
    page.get_by_label("Model").fill("no-such-model")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#audit")).to_contain_text("No entries match")
    page.get_by_role("button", name="Clear").click()
    expect(rows.first).to_be_visible()
    shot(page, "admin-audit")

"""The ask page in a real browser: streamed, cited answers; quotes; abstention without a
trace of what exists; feedback; recent questions; keyboard only."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Route, expect

from api import demo_loader
from core import document_id

from .conftest import ALEX, DANA, JORDAN, SignIn, ask, shot
from .server import DemoServer

ORCA = "engineering/strategy/prj-orca-7-status.md"
SALARY_BANDS = "hr/confidential/salary-bands-2026.md"

RECORD_STREAM = """
window.__streamed = [];
new MutationObserver(() => {
  const live = document.querySelector('#result .answer-text.streaming');
  if (live && live.textContent) window.__streamed.push(live.textContent.length);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _normalized(text: str) -> str:
    return re.sub(r"[\s*_#|`>]+", " ", text).strip()


def test_demo_user_sees_the_answer_stream_in_then_a_cited_answer(sign_in: SignIn) -> None:
    page = sign_in(ALEX)
    page.evaluate(RECORD_STREAM)
    with page.expect_response("**/v1/answer") as answered:
        ask(page, "What is the status of PRJ-ORCA-7?")
    response = answered.value
    assert response.request.post_data_json == {"query": "What is the status of PRJ-ORCA-7?",
                                               "stream": True}
    assert response.headers["content-type"].startswith("text/event-stream")

    streamed = page.evaluate("window.__streamed")
    assert streamed, "no token was shown before the final answer"
    assert streamed == sorted(streamed)  # the text grew as tokens came
    card = page.locator("#result .answer-card")
    expect(card.locator(".cite").first).to_be_visible()
    expect(card.locator(".sources")).to_contain_text("PRJ-ORCA-7 (Project Orca)")
    expect(card.locator(".sources")).to_contain_text(demo_loader.DEMO_SOURCE)
    expect(page.locator("#status")).to_contain_text("Answer ready")
    shot(page, "ask-answer")


def test_clicking_a_citation_opens_its_quote_and_escape_closes_it(sign_in: SignIn) -> None:
    page = sign_in(ALEX)
    ask(page, "What is the status of PRJ-ORCA-7?")
    marker = page.locator("#result .cite").first
    panel = page.locator("#quote-panel")
    expect(panel).to_be_hidden()
    marker.click()
    expect(panel).to_be_visible()
    expect(marker).to_have_attribute("aria-expanded", "true")
    expect(panel.locator(".quote-title")).to_have_text("PRJ-ORCA-7 (Project Orca) — Program Status Report")
    expect(panel.locator(".quote-source")).to_contain_text(demo_loader.DEMO_SOURCE)
    quote = panel.locator("blockquote").inner_text()
    source_text = _normalized((demo_loader.DEMO_DIR / "corpus" / ORCA).read_text())
    assert len(quote) > 20 and _normalized(quote)[:60] in source_text
    shot(page, "ask-quote-open")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(marker).to_be_focused()
    expect(marker).to_have_attribute("aria-expanded", "false")


def test_user_outside_the_group_sees_the_abstention_and_nothing_of_the_document(
        sign_in: SignIn, demo: DemoServer) -> None:
    page = sign_in(JORDAN)
    ask(page, "What is the salary band for an IC3 software engineer?")
    card = page.locator("#result .abstain-card")
    expect(card).to_be_visible()
    expect(card).to_contain_text("No answer from what you can read")
    expect(card).to_contain_text("Nothing you can read matched")
    expect(page.locator("#result .cite")).to_have_count(0)
    shot(page, "ask-abstention")

    html = page.content()  # the whole DOM, hidden parts included
    source_id = _demo_source_id(demo)
    secrets = ["salary-bands-2026", "Salary Bands 2026", "hr/confidential", "CONFIDENTIAL",
               "$128,000", "$145,000", "$162,000", "Radford", "Compensation Committee",
               document_id(source_id, SALARY_BANDS)]
    leaked = [s for s in secrets if s.lower() in html.lower()]
    assert not leaked, leaked


def test_feedback_and_recent_questions(sign_in: SignIn) -> None:
    page = sign_in(DANA)
    with page.expect_response("**/v1/answer"):
        ask(page, "What is the employer 401(k) match?")
    card = page.locator("#result .answer-card")
    with page.expect_response("**/v1/feedback") as posted:
        card.get_by_role("button", name="Not helpful").click()
    assert posted.value.status == 201
    body = posted.value.request.post_data_json
    assert body is not None and body["rating"] == -1 and body["request_id"]
    expect(card.get_by_role("button", name="Not helpful")).to_have_attribute("aria-pressed", "true")
    card.get_by_label("Anything to add? (optional)").fill("Please add the vesting schedule.")
    with page.expect_response("**/v1/feedback") as commented:
        card.get_by_role("button", name="Send comment").click()
    assert commented.value.status == 201
    comment = commented.value.request.post_data_json
    assert comment is not None and comment["comment"] == "Please add the vesting schedule."
    expect(card.locator(".feedback-note")).to_contain_text("Thanks")

    recent = page.locator("#recent")
    expect(recent).to_contain_text("What is the employer 401(k) match?")
    with page.expect_response("**/v1/answer"):
        recent.get_by_role("button", name=re.compile("401")).click()
    expect(page.locator("#question")).to_have_value("What is the employer 401(k) match?")


def test_the_ask_flow_works_with_the_keyboard_alone(sign_in: SignIn, demo: DemoServer) -> None:
    page = sign_in(None)
    page.goto("/")  # signed out: the page sends us to sign in
    page.wait_for_url(re.compile(r"/sign-in\?next=%2F$"))
    first_user = page.locator(".user-pick").first
    for _ in range(30):  # Tab through the header to the demo picker
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('user-pick')"):
            break
    expect(first_user).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{demo.base_url}/")

    question = page.locator("#question")
    expect(question).to_be_focused()
    page.keyboard.type("What is the status")
    page.keyboard.press("Shift+Enter")
    expect(question).to_have_value("What is the status\n")
    page.keyboard.press("Backspace")
    page.keyboard.type(" of PRJ-ORCA-7?")
    page.keyboard.press("Enter")
    page.locator("#result .answer-card:not([aria-busy])").wait_for()

    for _ in range(20):  # on to the first citation marker
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    page.keyboard.press("Enter")
    expect(page.locator("#quote-panel")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#quote-panel")).to_be_hidden()


def test_escape_stops_an_answer_that_is_still_coming(sign_in: SignIn) -> None:
    page = sign_in(ALEX)
    held: list[Route] = []
    page.route("**/v1/answer", lambda route: held.append(route))  # never answered
    page.locator("#question").fill("What is the status of PRJ-ORCA-7?")
    page.locator("#question").press("Enter")
    expect(page.get_by_role("button", name="Stop")).to_be_visible()
    expect(page.locator("#result .working")).to_have_text("Searching what you can read…")
    shot(page, "ask-waiting")
    page.keyboard.press("Escape")
    expect(page.locator("#result .stopped")).to_contain_text("Stopped")
    expect(page.get_by_role("button", name="Stop")).to_be_hidden()
    expect(page.locator("#go")).to_be_enabled()
    assert held, "the question was never sent"
    page.unroute("**/v1/answer")


def _demo_source_id(demo: DemoServer) -> str:
    sources = httpx.get(f"{demo.base_url}/v1/sources",
                        headers={"Authorization": f"Bearer {demo.admin_key}"}).json()
    return str(next(s["id"] for s in sources["sources"]
                    if s["name"] == demo_loader.DEMO_SOURCE))


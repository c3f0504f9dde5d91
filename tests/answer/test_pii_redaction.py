"""PII leaves the process only as placeholders, and comes back in the model's answer."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from answer import AnswerRequest, OpenAIAdapter, create_adapter
from answer.redact import Redaction, RestoringStream, redact_request
from answer.service import verified

from .conftest import chunk
from .fake_providers import FakeServer, cited, openai_json, openai_stream

HELPDESK = ("The IT helpdesk answers at helpdesk@corp.example.com or +49 30 1234 5678. "
            "Refunds go to IBAN DE89 3704 0044 0532 0130 00 within 30 days. "
            "The test card 4111 1111 1111 1111 is for the sandbox only.")


@pytest.mark.parametrize(("text", "kind"), [
    ("mail ann.lee+hr@x-corp.co.uk now", "EMAIL"),
    ("call +1 (415) 555-0100 today", "PHONE"),
    ("call 030 1234 5678 today", "PHONE"),
    ("card 4111-1111-1111-1111 used", "CARD"),
    ("pay to GB82 WEST 1234 5698 7654 32 now", "IBAN"),
    ("ssn 078-05-1120 on file", "SSN"),
])
def test_each_kind_is_replaced_by_a_placeholder(text: str, kind: str) -> None:
    redaction = Redaction()
    redacted = redaction.redact(text)
    assert f"[{kind}_1]" in redacted, redacted
    assert redaction.restore(redacted) == text


@pytest.mark.parametrize("text", [
    "The budget is 800,000 EUR for 2026.", "Reports are due on 2026-11-01.",
    "Project QX-7731 costs 2.4 million.", "Order 4111 1111 1111 1112 is not a card.",
    "Room 12 on floor 3, ext. 4410.",
])
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert Redaction().redact(text) == text


def test_the_same_value_gets_the_same_placeholder_across_question_and_chunks() -> None:
    request = AnswerRequest("Is helpdesk@corp.example.com open?",
                            (chunk(1, HELPDESK), chunk(2, "Write to helpdesk@corp.example.com")))
    redacted, redaction = redact_request(request)
    assert "[EMAIL_1]" in redacted.question and "[EMAIL_1]" in redacted.context[1].text
    assert "@" not in json.dumps([redacted.question, [c.text for c in redacted.context]])
    assert redaction.originals["[EMAIL_1]"] == "helpdesk@corp.example.com"


def test_chunk_headings_are_redacted_too() -> None:
    filed = replace(chunk(1, HELPDESK), heading_path=("Write to helpdesk@corp.example.com",))
    redacted, _ = redact_request(AnswerRequest("Is the helpdesk open?", (filed,)))
    assert redacted.context[0].heading_path == ("Write to [EMAIL_1]",)


def test_a_model_sees_placeholders_and_the_answer_and_quotes_get_the_originals() -> None:
    reply = cited("Write to [EMAIL_1] or call [PHONE_1] [1].",
                  (1, "The IT helpdesk answers at [EMAIL_1] or [PHONE_1]."))
    server = FakeServer([openai_json(reply)])
    adapter = create_adapter("openai", model="m", api_key="k", http_client=server.client())
    context = (chunk(1, HELPDESK, title="IT helpdesk"),)
    result = adapter.generate(AnswerRequest("How do I reach the IT helpdesk?", context))
    sent = json.dumps(server.requests[0])
    assert "helpdesk@corp.example.com" not in sent and "1234 5678" not in sent
    assert "DE89" not in sent and "4111" not in sent
    checked = verified(result, context)
    assert checked.answer == ("Write to helpdesk@corp.example.com or call +49 30 1234 5678 "
                              "[1].")
    assert checked.citations and "helpdesk@corp.example.com" in checked.citations[0].quote


def test_streamed_text_gets_the_originals_even_when_a_placeholder_is_split() -> None:
    redaction = Redaction()
    redaction.redact("helpdesk@corp.example.com")
    restoring = RestoringStream(redaction)
    pieces = ["Write to [EM", "AIL_", "1] now [1", "]."]
    text = "".join(restoring.feed(p) for p in pieces) + restoring.flush()
    assert text == "Write to helpdesk@corp.example.com now [1]."
    reply = cited("Write to [EMAIL_1] [1].", (1, "The IT helpdesk answers at [EMAIL_1]"))
    server = FakeServer([openai_stream(reply, pieces=11)])
    adapter = OpenAIAdapter(model="m", api_key="k", http_client=server.client())
    stream = adapter.stream(AnswerRequest("How do I reach the IT helpdesk?",
                                          (chunk(1, HELPDESK),)))
    tokens = []
    while True:
        try:
            tokens.append(next(stream))
        except StopIteration as done:
            result = done.value
            break
    assert "".join(tokens) == result.answer == "Write to helpdesk@corp.example.com [1]."


def test_redaction_can_be_turned_off() -> None:
    server = FakeServer([openai_json(cited("x [1].", (1, "IT helpdesk")))])
    adapter = create_adapter("openai", model="m", api_key="k", http_client=server.client(),
                             redact_pii=False)
    adapter.generate(AnswerRequest("How do I reach the IT helpdesk?", (chunk(1, HELPDESK),)))
    assert "helpdesk@corp.example.com" in json.dumps(server.requests[0])

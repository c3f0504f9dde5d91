"""The prompt's token budget: best chunks first, the rest cut at a boundary or left out."""

from __future__ import annotations

import json

from answer import AnswerRequest, create_adapter
from answer.budget import estimate_tokens, fit_to_budget

from .conftest import EXPENSES, TRAVEL, chunk
from .fake_providers import FakeServer, cited, openai_json

LONG = " ".join(f"Sentence number {i} of the long handbook says nothing useful." for i in
                range(200))


def test_a_context_that_fits_is_sent_as_it_is() -> None:
    request = AnswerRequest("q?", (chunk(1, TRAVEL), chunk(2, EXPENSES)))
    assert fit_to_budget(request, max_input_tokens=10_000) is request


def test_lower_ranked_chunks_are_cut_at_a_sentence_then_left_out() -> None:
    request = AnswerRequest("q?", (chunk(1, TRAVEL), chunk(2, LONG), chunk(3, EXPENSES)))
    fitted = fit_to_budget(request, max_input_tokens=400)
    assert [c.n for c in fitted.context] == [1, 2]
    assert fitted.context[0].text == TRAVEL
    cut = fitted.context[1].text
    assert LONG.startswith(cut) and cut.endswith(".") and len(cut) < len(LONG)
    total = sum(estimate_tokens(c.text) + estimate_tokens(c.title) + 16
                for c in fitted.context)
    assert total <= 400


def test_a_model_adapter_sends_only_what_fits() -> None:
    server = FakeServer([openai_json(cited("Economy [1].", (1, "Employees may book economy")))])
    adapter = create_adapter("openai", model="m", api_key="k", http_client=server.client(),
                             max_input_tokens=1000)
    question = "Which class may employees book for flights under six hours?"
    adapter.generate(AnswerRequest(question, (chunk(1, TRAVEL), chunk(2, LONG * 3))))
    documents = json.loads(server.requests[0]["messages"][1]["content"])["documents"]
    assert documents[0]["text"] == TRAVEL
    assert all(len(d["text"]) < len(LONG * 3) for d in documents)

"""Adapters are built by kind through one registry; options refuse what they don't know."""

from __future__ import annotations

import dataclasses

import pydantic
import pytest

from answer import (
    AnswerOptions,
    AnswerRequest,
    AnswerResult,
    ExtractiveAdapter,
    ModelAdapter,
    adapter_kinds,
    create_adapter,
    register_adapter,
)

from .conftest import chunk


class EchoAdapter:
    """A fake model: what a test of a route or a worker would hand in."""

    kind = "echo"
    can_stream = True
    supports_schema = False

    def __init__(self, *, prefix: str = "") -> None:
        self.prefix = prefix

    def generate(self, request: AnswerRequest) -> AnswerResult:
        return AnswerResult(answer=f"{self.prefix}{request.question}", model=self.kind)


def test_extractive_adapter_is_registered_like_any_other() -> None:
    assert "extractive" in adapter_kinds()
    adapter = create_adapter("extractive", min_evidence=0.5)
    assert isinstance(adapter, ExtractiveAdapter)
    assert adapter.min_evidence == 0.5
    assert (adapter.can_stream, adapter.supports_schema) == (False, False)


def test_registered_adapter_is_built_with_its_config() -> None:
    register_adapter("echo", EchoAdapter)
    adapter: ModelAdapter = create_adapter("echo", prefix="> ")
    result = adapter.generate(AnswerRequest("hello?", (chunk(1, "x"),)))
    assert result.answer == "> hello?"
    assert adapter.can_stream


def test_unknown_kind_names_the_known_ones_and_the_fix() -> None:
    with pytest.raises(ValueError, match=r"'nope'.*extractive.*register_adapter"):
        create_adapter("nope")


def test_options_refuse_unknown_fields() -> None:
    with pytest.raises(pydantic.ValidationError):
        AnswerOptions(max_sentence=2)  # type: ignore[call-arg]


def test_options_refuse_out_of_range_values() -> None:
    with pytest.raises(pydantic.ValidationError):
        AnswerOptions(max_sentences=0)


def test_request_and_result_are_frozen() -> None:
    request = AnswerRequest("q", ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.question = "other"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        request.options.max_sentences = 5

"""The MiniLM token counter: what the model sees, specials included, never truncated."""

from __future__ import annotations

from ingest.tokens import MiniLMTokenCounter, minilm_token_counter


def test_counts_include_cls_and_sep(minilm: MiniLMTokenCounter) -> None:
    assert minilm("") == 2
    assert minilm("hello world") == 4


def test_long_text_is_counted_in_full_not_truncated_or_padded_to_128(
    minilm: MiniLMTokenCounter,
) -> None:
    assert minilm("word " * 300) == 302
    assert minilm("hi") == 3


def test_constructing_a_counter_loads_nothing() -> None:
    counter = MiniLMTokenCounter()

    assert counter._tokenizer is None
    assert counter("a b") == 4
    assert counter._tokenizer is not None


def test_the_shared_counter_is_one_instance() -> None:
    assert minilm_token_counter() is minilm_token_counter()

"""Sentence spans are exact slices of their text; the stemmer makes inflections meet."""

from __future__ import annotations

from answer.text import split_sentences, stem, tokens


def sentences(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_sentences_split_at_terminal_punctuation() -> None:
    assert sentences("One is here. Two is there! Three? Four.") == [
        "One is here.",
        "Two is there!",
        "Three?",
        "Four.",
    ]


def test_abbreviations_initials_and_decimals_do_not_end_a_sentence() -> None:
    text = "Dr. Smith met J. R. Doe at 3.5 p.m. today, e.g. in the U.S. office. Then he left."
    assert sentences(text) == [
        "Dr. Smith met J. R. Doe at 3.5 p.m. today, e.g. in the U.S. office.",
        "Then he left.",
    ]


def test_blank_lines_and_list_items_are_boundaries() -> None:
    text = "Rules\n\n- Book early\n- Keep receipts\n1. Submit within 30 days"
    assert sentences(text) == [
        "Rules",
        "- Book early",
        "- Keep receipts",
        "1. Submit within 30 days",
    ]


def test_sentence_spans_are_exact_slices() -> None:
    text = "  Alpha beta.\tGamma delta!  \n\n Epsilon  "
    for span in split_sentences(text):
        piece = text[span.start : span.end]
        assert piece == piece.strip() and piece in text


def test_inflections_share_a_stem() -> None:
    assert stem("founded") == stem("founding") == stem("founds") == stem("found")
    assert stem("used") == stem("uses") == stem("use")
    assert stem("located") == stem("location")
    assert stem("made") == stem("make")


def test_tokens_fold_accents_keep_numbers_and_split_negations() -> None:
    assert tokens("Küçükdeveci didn't pay 1,200 EUR") == [
        "kucukdeveci", "did", "not", "pay", "1200", "eur",
    ]

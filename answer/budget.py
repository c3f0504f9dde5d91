"""The prompt's token budget: the context a model adapter sends is cut to fit.

Chunks arrive best first; whole chunks are kept in that order while they fit, and the first
one that does not fit is cut at a sentence or word boundary when enough room is left for a
useful part of it. What is dropped is simply not offered to the model (its ``[n]`` cannot
be cited). A cut chunk's text is a prefix of the original, so a quote from it is still a
quote of the chunk the caller was given.

Counting is an estimate (about four characters a token for English text, rounded up, per
piece), because the providers' tokenizers are not available offline; the provider's own
count comes back in ``usage`` and goes into the audit row.
"""

from __future__ import annotations

from dataclasses import replace

from .types import AnswerRequest

__all__ = ["MIN_PART_TOKENS", "estimate_tokens", "fit_to_budget"]

CHARS_PER_TOKEN = 4
MIN_PART_TOKENS = 48
"""A cut chunk must keep at least this many tokens, else it is dropped."""
_PER_CHUNK_OVERHEAD = 16
"""The JSON keys, number, source id and title framing of one chunk."""


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def fit_to_budget(request: AnswerRequest, *, max_input_tokens: int,
                  fixed_tokens: int = 0) -> AnswerRequest:
    """``request`` with its context cut so that question, chunks and ``fixed_tokens`` (the
    system prompt) fit in ``max_input_tokens``."""
    left = max_input_tokens - fixed_tokens - estimate_tokens(request.question)
    kept = []
    for chunk in request.context:
        cost = _PER_CHUNK_OVERHEAD + estimate_tokens(chunk.title) + estimate_tokens(chunk.text)
        if cost <= left:
            kept.append(chunk)
            left -= cost
            continue
        room = left - _PER_CHUNK_OVERHEAD - estimate_tokens(chunk.title)
        if room >= MIN_PART_TOKENS:
            kept.append(replace(chunk, text=_cut(chunk.text, room * CHARS_PER_TOKEN)))
        break
    if len(kept) == len(request.context) and all(
        a is b for a, b in zip(kept, request.context, strict=True)
    ):
        return request
    return replace(request, context=tuple(kept))


def _cut(text: str, max_chars: int) -> str:
    """The longest prefix within ``max_chars`` that ends a sentence, else a word."""
    head = text[:max_chars]
    for end in (". ", "! ", "? ", "\n"):
        at = head.rfind(end)
        if at >= max_chars // 2:
            return head[: at + 1].rstrip()
    at = head.rfind(" ")
    return head[:at].rstrip() if at > 0 else head

"""Prompt-injection signals in retrieved text.

A document is data. The prompt already quotes every chunk as JSON and tells the model to
ignore instructions inside documents; this module adds a second line: it spots text that
reads like instructions to a model ("ignore previous instructions", "you are now", role
tags, requests to reveal the prompt), so the chunk is labelled as suspicious in the prompt
and the audit row records which chunks were (their ids, never their text).

The patterns are deliberately conservative: they look for phrasing addressed to an
assistant, which ordinary policy text does not use; a hit never removes a chunk (it may
still hold the answer), it only marks it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .types import ContextChunk

__all__ = ["INJECTION_PATTERNS", "injection_signals", "suspicious_chunks"]

INJECTION_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern, re.IGNORECASE)
    for name, pattern in {
        "override_instructions": r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}"
                                 r"\b(?:previous|prior|above|earlier|all|any|your|the)\b"
                                 r"[^.\n]{0,20}\b(?:instructions?|prompts?|rules|guidelines)\b",
        "new_identity": r"\byou are now\b|\bfrom now on,? you\b|\bpretend (?:to be|you are)\b",
        "reveal_prompt": r"\b(?:reveal|print|show|repeat|output)\b[^.\n]{0,30}"
                         r"\b(?:system prompt|instructions|hidden prompt)\b",
        "role_tag": r"(?:^|\n)\s*(?:system|assistant|###\s*instruction)\s*:|<\|im_start\|>"
                    r"|\[/?INST\]|</?(?:system|instructions?)>",
        "new_instructions": r"\b(?:new|updated|additional) instructions?\s*:",
        "tool_or_exfiltration": r"\b(?:call|invoke) the \w+ (?:tool|function)\b"
                                r"|\bsend (?:it|this|the \w+) to (?:https?://|\S+@\S+)",
    }.items()
}


def injection_signals(text: str) -> tuple[str, ...]:
    """The names of the patterns ``text`` matches, in a stable order."""
    return tuple(name for name, pattern in INJECTION_PATTERNS.items() if pattern.search(text))


def suspicious_chunks(context: Iterable[ContextChunk]) -> dict[str, tuple[str, ...]]:
    """``chunk_id -> signals`` for the chunks (title or text) that match any pattern."""
    found: dict[str, tuple[str, ...]] = {}
    for chunk in context:
        signals = injection_signals(f"{chunk.title}\n{chunk.text}")
        if signals:
            found[chunk.chunk_id] = signals
    return found

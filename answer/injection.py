"""Prompt-injection signals in retrieved text, and what a flag does to a chunk.

A document is data. The prompt already quotes every chunk as JSON and tells the model to
ignore instructions inside documents; this module adds a second line. Two detectors look
at each chunk (title and text), and either one flags it:

- **patterns** (``INJECTION_PATTERNS``): phrasing addressed to an assistant ("ignore
  previous instructions", "you are now", role tags, requests to reveal the prompt), which
  ordinary policy text does not use;
- **a classifier** (signal ``"classifier"``): a logistic regression over the words and
  word pairs of each sentence or line of the chunk (``segment_features``). The chunk scores
  its most instruction-like segment, so an attack pasted into a long, harmless text is not
  diluted by it. Its weights and threshold are ``_injection_model.json``, written by
  ``python -m bench.fit_injection`` (fitted on BIPIA's *train* attacks and benign text; see
  there for the data and the split) and read once, on first use; nothing is trained at run
  time. ``python -m bench.injection`` measures it on held-out data.

What a flag does is ``Settings.injection_action`` (``screen``): ``mark`` keeps the chunk
and labels it ``"suspicious": true`` in the prompt; ``drop`` withholds it from the model;
``quarantine`` withholds it and names it in the audit row. Audit rows carry chunk ids and
counts, never text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any, Literal

from .types import ContextChunk

__all__ = [
    "CLASSIFIER_SIGNAL",
    "INJECTION_PATTERNS",
    "InjectionAction",
    "InjectionModel",
    "MODEL_FILE",
    "Screened",
    "bundled_model",
    "injection_signals",
    "pattern_signals",
    "screen",
    "segment_features",
    "segments",
    "suspicious_chunks",
]

InjectionAction = Literal["mark", "drop", "quarantine"]
CLASSIFIER_SIGNAL = "classifier"
MODEL_FILE = "_injection_model.json"

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

# -- the classifier's view of a text --------------------------------------------------------

_LINES = re.compile(r"\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=\S)")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+|[?!:\"`@/#$%&*=<>\[\]{}|]")


def segments(text: str) -> list[str]:
    """The lines of ``text``, each cut into sentences: the units the classifier scores."""
    found: list[str] = []
    for line in _LINES.split(text):
        for sentence in _SENTENCE_END.split(line.strip()):
            if sentence.strip():
                found.append(sentence.strip())
    return found


def segment_features(segment: str) -> frozenset[str]:
    """Words (``w:``), adjacent word pairs (``b:``), the first word (``first:``) and a final
    ``?`` or ``:`` (``end:``), lower-cased, every number as ``0``."""
    tokens = ["0" if t.isdigit() else t for t in _TOKEN.findall(segment.lower())]
    features = {f"w:{t}" for t in tokens}
    features.update(f"b:{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    words = [t for t in tokens if t[0].isalpha()]
    if words:
        features.add(f"first:{words[0]}")
    end = segment.rstrip()[-1:]
    if end in ("?", ":"):
        features.add(f"end:{end}")
    return frozenset(features)


@dataclass(frozen=True)
class InjectionModel:
    """``logit(segment) = bias + sum(weights of its features) / sqrt(number of its
    features)`` (features the model has no weight for count in the root, not the sum); a
    text is flagged when its highest segment logit reaches ``threshold``."""

    bias: float
    weights: Mapping[str, float]
    threshold: float

    def segment_logit(self, segment: str) -> float:
        features = segment_features(segment)
        if not features:
            return -math.inf
        total = sum(self.weights.get(f, 0.0) for f in features)
        return self.bias + total / math.sqrt(len(features))

    def score(self, text: str) -> float:
        """The highest segment logit of ``text`` (``-inf`` for a text without words)."""
        return max((self.segment_logit(s) for s in segments(text)), default=-math.inf)

    def flags(self, text: str) -> bool:
        return self.score(text) >= self.threshold

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InjectionModel:
        """From the object ``bench.fit_injection`` writes (its other keys describe the fit)."""
        return cls(bias=float(data["bias"]), threshold=float(data["threshold"]),
                   weights={str(k): float(v) for k, v in data["weights"].items()})


@cache
def bundled_model() -> InjectionModel:
    """The fitted model shipped in this package (read once)."""
    text = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return InjectionModel.from_json(json.loads(text))


# -- signals --------------------------------------------------------------------------------


def pattern_signals(text: str) -> tuple[str, ...]:
    """The names of the patterns ``text`` matches, in a stable order."""
    return tuple(name for name, pattern in INJECTION_PATTERNS.items() if pattern.search(text))


def injection_signals(text: str, *, model: InjectionModel | None = None) -> tuple[str, ...]:
    """``pattern_signals``, then ``"classifier"`` if ``model`` (default: the bundled one)
    flags the text."""
    model = model or bundled_model()
    signals = pattern_signals(text)
    return signals + (CLASSIFIER_SIGNAL,) if model.flags(text) else signals


def suspicious_chunks(context: Iterable[ContextChunk], *, model: InjectionModel | None = None,
                      ) -> dict[str, tuple[str, ...]]:
    """``chunk_id -> signals`` for the chunks (title and text) either detector flags."""
    found: dict[str, tuple[str, ...]] = {}
    for chunk in context:
        signals = injection_signals(f"{chunk.title}\n{chunk.text}", model=model)
        if signals:
            found[chunk.chunk_id] = signals
    return found


# -- what a flag does -----------------------------------------------------------------------


@dataclass(frozen=True)
class Screened:
    """The context a model is given after ``screen``, and what the audit row records."""

    context: tuple[ContextChunk, ...]
    action: InjectionAction
    flagged: tuple[str, ...]
    """Ids of the flagged chunks, sorted."""

    def audit_detail(self) -> dict[str, object]:
        """Ids and counts only. ``mark`` and ``quarantine`` name the flagged chunks; ``drop``
        counts them; ``withheld`` is how many the model did not see."""
        withheld = 0 if self.action == "mark" else len(self.flagged)
        named = [] if self.action == "drop" else list(self.flagged)
        return {"injection_action": self.action, "injection_suspected": named,
                "injection_withheld": withheld}


def screen(context: tuple[ContextChunk, ...], *, action: InjectionAction = "mark",
           model: InjectionModel | None = None) -> Screened:
    """Apply ``action`` to the flagged chunks of ``context``: ``mark`` keeps them (the
    prompt labels them), ``drop`` and ``quarantine`` take them out and number the rest
    1..k again, as the adapters cite by that number."""
    flagged = tuple(sorted(suspicious_chunks(context, model=model)))
    if action == "mark" or not flagged:
        return Screened(context=context, action=action, flagged=flagged)
    kept = [c for c in context if c.chunk_id not in flagged]
    return Screened(context=tuple(replace(c, n=i) for i, c in enumerate(kept, start=1)),
                    action=action, flagged=flagged)

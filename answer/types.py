"""The values that cross the adapter seam: context chunks, requests, options and results.

A leaf module (it imports nothing else of ``answer``) so that the abstention rules and the
adapters can both use these types without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from core import Citation


@dataclass(frozen=True)
class ContextChunk:
    """One permitted chunk as the adapter sees it; ``n`` is its ``[n]`` in prompts and answers."""

    n: int
    chunk_id: str
    doc_id: str
    title: str
    url: str | None
    text: str
    score: float | None = None
    """The retriever's score, when it has one; see ``answer.evidence_score`` for its use."""
    heading_path: tuple[str, ...] = ()
    """The headings the chunk sits under, outermost first (``Hit.heading_path``)."""

    @property
    def label(self) -> str:
        """Title and headings: what the chunk is about, which counts as context for each of
        its sentences (a sentence under "Requesting time off" is about requesting time
        off) but is never quoted."""
        return "\n".join((self.title, *self.heading_path))


class AnswerOptions(BaseModel):
    """Per-request knobs. Unknown options are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_sentences: int = Field(default=3, ge=1, le=10)
    max_output_tokens: int = Field(default=512, gt=0)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)


@dataclass(frozen=True)
class AnswerRequest:
    question: str
    context: tuple[ContextChunk, ...]
    options: AnswerOptions = field(default_factory=AnswerOptions)
    deadline: float | None = None
    """``time.monotonic()`` by which the whole answer must be ready; adapters shorten their
    provider timeouts to fit it and give up (``ModelTimeout``) once it has passed."""


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, kw_only=True)
class AnswerResult:
    """What an adapter returns: text with ``[n]`` markers and one citation per marker."""

    answer: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    reason: str | None = None
    """A stable code when ``abstained`` (``no_relevant_documents``, ...), else None."""
    usage: Usage = Usage()
    model: str
    model_version: str | None = None
    unsupported_sentences: tuple[str, ...] = ()
    """Sentences of ``answer`` that no citation supports (shown to the caller as such)."""
    fallback_from: str | None = None
    """The adapter kind that failed when this is the extractive fallback's answer."""
    fallback_reason: str | None = None
    """That failure's error code (``model_timeout``, ``model_rate_limited``, ...)."""
    prompt_version: str | None = None
    """The versioned prompt file the model was given (``answer_v1``), None without one."""
    schema_violations: int = 0
    """Replies that broke the structured-output schema before this one (0 or 1)."""

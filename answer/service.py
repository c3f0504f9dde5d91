"""A question as a caller asks it: retrieve what they may read, answer or abstain, check
the citations, and leave one audit row (model, version, prompt, hashes, tokens, latency).

``Answerer.answer`` gives the whole answer; ``Answerer.stream`` yields its text as it is
produced and returns the same outcome, whose (checked) answer is authoritative. An adapter
that cannot stream has its checked answer streamed in word chunks, after the check.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace

from core import Citation, Entitlements, Hit
from core.audit import AuditContext, record_for, sha256_hex
from core.errors import TokenBudgetExceeded
from retrieval import Retriever, SearchFilters

from .abstain import abstained_result
from .adapters.base import AnswerRequest, AnswerResult, ContextChunk, ModelAdapter, Usage
from .cache import AnswerCache, cache_key, index_version
from .gateway import StreamingAdapter, TokenStream
from .injection import InjectionAction, Screened, screen
from .quota import DailyTokenQuota
from .text import split_sentences

__all__ = ["AnswerOutcome", "Answerer", "OutcomeStream", "UNVERIFIED_CITATIONS", "verified"]

UNVERIFIED_CITATIONS = "unverified_citations"
CLIENT_CLOSED = "client_closed"
"""The audit reason of a streamed answer whose caller went away before its end."""
_MARKER = re.compile(r"(\s*)\[(\d+)\]")
_WORD_CHUNK = re.compile(r"\S+\s*")


@dataclass(frozen=True)
class AnswerOutcome:
    result: AnswerResult
    latency_ms: int
    context: tuple[ContextChunk, ...]
    cached: bool = False


OutcomeStream = Generator[str, None, AnswerOutcome]
"""Answer text as it is produced; the generator's return value is the outcome."""


@dataclass(frozen=True)
class _Cached:
    result: AnswerResult
    context: tuple[ContextChunk, ...]
    screened: Screened | None = None


class Answerer:
    """``deadline_s`` bounds a whole answer (fallback included); ``cache`` is optional and
    is used only when the caller passes the tenant's ``acl_epoch``."""

    def __init__(self, *, retriever: Retriever, adapter: ModelAdapter,
                 cache: AnswerCache[_Cached] | None = None,
                 deadline_s: float | None = None,
                 usd_per_mtok: tuple[float, float] | None = None,
                 quota: DailyTokenQuota | None = None,
                 injection_action: InjectionAction = "mark") -> None:
        self.retriever = retriever
        self.adapter = adapter
        self.cache = cache
        self.deadline_s = deadline_s
        self.usd_per_mtok = usd_per_mtok
        """(input, output) prices of a million tokens: each audit row gets ``cost_usd``."""
        self.quota = quota
        """Daily token budgets: checked before a question, counted in its audit row's
        transaction (``answer/quota.py``)."""
        self.injection_action: InjectionAction = injection_action
        """What a chunk the injection detector flags does (``answer.injection.screen``)."""

    def answer(self, question: str, *, entitlements: Entitlements, audit: AuditContext,
               filters: SearchFilters | None = None, top_k: int = 5,
               acl_epoch: int | None = None) -> AnswerOutcome:
        self._check_quota(question, audit=audit)
        run = self._run(question, entitlements=entitlements, audit=audit, filters=filters,
                        top_k=top_k, acl_epoch=acl_epoch, streaming=False)
        while True:
            try:
                next(run)
            except StopIteration as done:
                outcome: AnswerOutcome = done.value
                return outcome

    def stream(self, question: str, *, entitlements: Entitlements, audit: AuditContext,
               filters: SearchFilters | None = None, top_k: int = 5,
               acl_epoch: int | None = None) -> OutcomeStream:
        self._check_quota(question, audit=audit)  # now: a refusal is a 429, not an event
        return self._run(question, entitlements=entitlements, audit=audit, filters=filters,
                         top_k=top_k, acl_epoch=acl_epoch, streaming=True)

    def _run(self, question: str, *, entitlements: Entitlements, audit: AuditContext,
             filters: SearchFilters | None, top_k: int, acl_epoch: int | None,
             streaming: bool) -> OutcomeStream:
        started = time.perf_counter()
        key = None
        cached: _Cached | None = None
        if self.cache is not None and acl_epoch is not None:
            with self.retriever.sessions() as session:
                version = index_version(session, entitlements.tenant)
            key = cache_key(question, entitlements=entitlements, acl_epoch=acl_epoch,
                            index_version=version, top_k=top_k, filters=filters)
            cached = self.cache.get(key)
        context: tuple[ContextChunk, ...] = ()
        screened: Screened | None = None
        tokens: TokenStream | None = None
        try:
            if cached is not None:
                # no model was asked this time: no tokens spent
                result, context = replace(cached.result, usage=Usage()), cached.context
                screened = cached.screened
                if streaming:
                    yield from _word_chunks(result.answer)
            else:
                hits = self.retriever.search(question, entitlements=entitlements,
                                             filters=filters, top_k=top_k,
                                             group_by_document=False).hits
                screened = screen(_context_of(hits), action=self.injection_action)
                context = screened.context  # what the model may see
                deadline = time.monotonic() + self.deadline_s if self.deadline_s else None
                request = AnswerRequest(question=question, context=context, deadline=deadline)
                streamed = False
                adapter = self.adapter
                if streaming and isinstance(adapter, StreamingAdapter) and adapter.can_stream:
                    tokens = adapter.stream(request)
                    while True:
                        try:
                            token = next(tokens)
                        except StopIteration as done:
                            raw: AnswerResult = done.value
                            break
                        streamed = True
                        yield token
                else:
                    raw = adapter.generate(request)
                result = verified(raw, context)
                if streaming and not streamed:
                    yield from _word_chunks(result.answer)
                if key is not None and self.cache is not None and result.fallback_from is None:
                    self.cache.put(key, _Cached(result, context, screened))
        except GeneratorExit:  # the caller went away mid-stream: still one audit row
            if tokens is not None:
                tokens.close()
            self._audit_abandoned(question, audit=audit, context=context, started=started)
            raise
        latency_ms = int((time.perf_counter() - started) * 1000)
        self._audit(question, audit=audit, result=result, context=context,
                    latency_ms=latency_ms, cached=cached is not None,
                    injection=screened.audit_detail() if screened else {})
        return AnswerOutcome(result=result, latency_ms=latency_ms, context=context,
                             cached=cached is not None)

    def _check_quota(self, question: str, *, audit: AuditContext) -> None:
        """Refuse before anything is retrieved or asked when a daily token budget is spent
        (one audit row, 429, no chunk). The extractive adapter spends nothing: never."""
        if self.quota is None or self.adapter.kind == "extractive":
            return
        refused: TokenBudgetExceeded | None = None
        with self.retriever.sessions() as session, session.begin():
            try:
                self.quota.check(session, tenant=audit.tenant, user_id=audit.user_id)
            except TokenBudgetExceeded as exc:
                record_for(session, audit, kind="answer", query=question, status_code=429,
                           latency_ms=0, model=self.adapter.kind, reason=exc.code,
                           detail={"token_budgets": list(exc.budgets)})
                refused = exc
        if refused is not None:  # raised after the commit, so that its audit row stays
            raise refused

    def _audit_abandoned(self, question: str, *, audit: AuditContext,
                         context: tuple[ContextChunk, ...], started: float) -> None:
        with self.retriever.sessions() as session, session.begin():
            record_for(
                session, audit, kind="answer", query=question,
                chunk_ids=[c.chunk_id for c in context], status_code=499,
                latency_ms=int((time.perf_counter() - started) * 1000),
                model=self.adapter.kind, reason=CLIENT_CLOSED,
                detail={"stream_closed": True},
            )

    def _audit(self, question: str, *, audit: AuditContext, result: AnswerResult,
               context: tuple[ContextChunk, ...], latency_ms: int, cached: bool,
               injection: dict[str, object]) -> None:
        prompt_hash = sha256_hex(json.dumps([result.prompt_version, question,
                                             [c.chunk_id for c in context]]))
        with self.retriever.sessions() as session, session.begin():
            record_for(
                session, audit, kind="answer", query=question,
                chunk_ids=[c.chunk_id for c in context], status_code=200,
                latency_ms=latency_ms, model=result.model, model_version=result.model_version,
                prompt_hash=prompt_hash, response_hash=sha256_hex(result.answer),
                input_tokens=result.usage.input_tokens,
                output_tokens=result.usage.output_tokens,
                abstained=result.abstained, reason=result.reason,
                detail={"citations": [c.chunk_id for c in result.citations],
                        "prompt_version": result.prompt_version,
                        "fallback_from": result.fallback_from,
                        "fallback_reason": result.fallback_reason,
                        "schema_violations": result.schema_violations,
                        "unsupported_sentences": len(result.unsupported_sentences),
                        "cached": cached,
                        **injection,
                        "cost_usd": self._cost_usd(result)},
            )
            if self.quota is not None and not cached:  # last: the usage rows lock briefly
                self.quota.add(session, tenant=audit.tenant, user_id=audit.user_id,
                               tokens=result.usage.input_tokens + result.usage.output_tokens)


    def _cost_usd(self, result: AnswerResult) -> float | None:
        if self.usd_per_mtok is None:
            return None
        input_price, output_price = self.usd_per_mtok
        return round((result.usage.input_tokens * input_price
                      + result.usage.output_tokens * output_price) / 1_000_000, 8)


def _context_of(hits: list[Hit]) -> tuple[ContextChunk, ...]:
    return tuple(
        ContextChunk(n=i, chunk_id=h.chunk_id, doc_id=h.doc_id, title=h.title, url=h.url,
                     text=h.text, score=h.score, heading_path=h.heading_path)
        for i, h in enumerate(hits, start=1)
    )


def _word_chunks(text: str) -> Iterator[str]:
    for match in _WORD_CHUNK.finditer(text):
        yield match.group(0)


def verified(result: AnswerResult, context: tuple[ContextChunk, ...]) -> AnswerResult:
    """Hold any adapter's answer to the citation rules:

    - a citation must name a chunk the caller was given, and its quote must occur in that
      chunk (whitespace-normalised); title, url and doc id are taken from the chunk;
    - every ``[n]`` must map to a kept citation: other markers are removed, and citations
      no marker uses are dropped; what is kept is renumbered 1..k in reading order;
    - with no citation left, the answer becomes an abstention (``unverified_citations``);
    - sentences with no marker that are not themselves quoted text are listed in
      ``unsupported_sentences``.
    """
    if result.abstained:
        return replace(result, citations=(), unsupported_sentences=())
    given = {c.chunk_id: c for c in context}
    good: dict[int, Citation] = {}
    for citation in result.citations:
        chunk = given.get(citation.chunk_id)
        if citation.n in good or chunk is None:
            continue
        quote = _normalised(citation.quote)
        if quote and quote in _normalised(chunk.text):
            good[citation.n] = replace(citation, doc_id=chunk.doc_id, title=chunk.title,
                                       url=chunk.url)
    order: dict[int, int] = {}
    for match in _MARKER.finditer(result.answer):
        n = int(match.group(2))
        if n in good and n not in order:
            order[n] = len(order) + 1
    if not order:
        return replace(
            abstained_result(UNVERIFIED_CITATIONS, model=result.model,
                             model_version=result.model_version),
            usage=result.usage, prompt_version=result.prompt_version,
            fallback_from=result.fallback_from, fallback_reason=result.fallback_reason,
            schema_violations=result.schema_violations)

    def renumber(match: re.Match[str]) -> str:
        n = int(match.group(2))
        return f"{match.group(1)}[{order[n]}]" if n in order else ""

    text = _MARKER.sub(renumber, result.answer).strip()
    citations = tuple(replace(good[n], n=new) for n, new in order.items())
    quotes = [_normalised(c.quote) for c in citations]
    unsupported = tuple(
        sentence for span in split_sentences(text)
        if not _MARKER.search(sentence := text[span.start:span.end])
        and not any(_normalised(sentence).rstrip(".!?") in q for q in quotes)
    )
    return replace(result, answer=text, citations=citations,
                   unsupported_sentences=unsupported)


def _normalised(text: str) -> str:
    return " ".join(text.split())

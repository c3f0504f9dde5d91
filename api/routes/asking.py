"""Search, answer and the caller's own history: always one user's entitlements."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select

from acl import current_epoch
from answer import AnswerResult
from answer.service import AnswerOutcome, OutcomeStream
from core import Principal
from core.audit import record_for
from core.errors import ClearanceError, NotFound, UnknownSource
from core.models import AuditRecord, Document, Feedback, Source
from retrieval import SearchFilters, audited_search

from .. import timing
from ..deps import AskerDep, RequestIdDep, SessionDep, StateDep
from ..schemas import (
    AnswerRequestBody,
    AnswerResponse,
    CitationPublic,
    FeedbackBody,
    FeedbackPublic,
    History,
    HistoryItem,
    HitPublic,
    SearchFiltersBody,
    SearchRequest,
    SearchResponse,
    UsagePublic,
)
from ..state import AppState

log = logging.getLogger("clearance.api")

router = APIRouter(prefix="/v1", tags=["asking"])

_BUDGET_SPENT: dict[str, Any] = {
    "description": "token_budget_exceeded: the asking user's or the tenant's daily budget of "
    "model tokens is spent (CLEARANCE_USER_DAILY_TOKEN_BUDGET, "
    "CLEARANCE_TENANT_DAILY_TOKEN_BUDGET); never with the extractive adapter.",
    "headers": {"Retry-After": {"description": "Seconds to the next UTC midnight, when the "
                                               "budgets reset.",
                                "schema": {"type": "integer"}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _filters(body: SearchFiltersBody | None, state: AppState, tenant: str,
             ) -> SearchFilters | None:
    """The caller's filters, with every source id checked. A session is opened only when
    there are source ids to check: search and answer take no request-wide session, whose
    opening and closing are two worker-thread hops on every request."""
    if body is None:
        return None
    source_ids = None
    if body.source_ids is not None:
        source_ids = frozenset(body.source_ids)
        with state.services.sessions() as session:
            known = set(session.scalars(select(Source.id).where(
                Source.tenant_id == tenant, Source.id.in_(source_ids))))
        if unknown := sorted(source_ids - known):
            raise UnknownSource(f"Unknown source id(s): {', '.join(unknown[:5])}.")
    return SearchFilters(source_ids=source_ids, metadata=dict(body.metadata))


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, asker: AskerDep, state: StateDep,
           request_id: RequestIdDep) -> Response:
    with timing.step("entitlements"):
        entitlements = state.resolver.entitlements_for(
            Principal(id=asker.user_id, tenant=asker.caller.tenant))
    result = audited_search(
        state.retriever, body.query, entitlements=entitlements, audit=asker.audit,
        filters=_filters(body.filters, state, asker.caller.tenant), top_k=body.top_k,
        group_by_document=body.group_by_document,
    )
    spent = result.timings
    for name, ms in (("queue", spent.queue_ms), ("embed", spent.embed_ms),
                     ("engine", spent.engine_ms),
                     ("recheck", spent.recheck_ms), ("rerank", spent.rerank_ms),
                     ("snippet", spent.snippet_ms), ("audit", spent.audit_ms)):
        timing.record(name, ms)
    hits = [HitPublic(doc_id=h.doc_id, chunk_id=h.chunk_id, source_id=h.source_id,
                      external_id=h.external_id, title=h.title, url=h.url, snippet=h.snippet,
                      score=h.score) for h in result.hits]
    return _json(SearchResponse(hits=hits, request_id=request_id))


@router.post("/answer", response_model=AnswerResponse,
             responses={200: {"content": {"text/event-stream": {}},
                              "description": "With \"stream\": true, server-sent events: "
                              "token*, then exactly one final (or one error)."},
                        429: _BUDGET_SPENT})
def answer(body: AnswerRequestBody, asker: AskerDep, state: StateDep,
           request_id: RequestIdDep) -> Response:
    tenant = asker.caller.tenant
    with state.services.sessions() as epoch_session:  # read before the entitlements
        acl_epoch = current_epoch(epoch_session, tenant)
    entitlements = state.resolver.entitlements_for(Principal(id=asker.user_id, tenant=tenant))
    filters = _filters(body.filters, state, tenant)
    if body.stream:
        run = state.answerer.stream(body.query, entitlements=entitlements, audit=asker.audit,
                                    filters=filters, top_k=body.top_k, acl_epoch=acl_epoch)
        return StreamingResponse(
            _answer_events(state, run, request_id), media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    outcome = state.answerer.answer(body.query, entitlements=entitlements, audit=asker.audit,
                                    filters=filters, top_k=body.top_k, acl_epoch=acl_epoch)
    return _json(_answer_response(state, outcome, request_id))


def _json(model: BaseModel) -> Response:
    """``model`` as the JSON body FastAPI would write for it. Returned as a ``Response``, so
    FastAPI does not validate the model a second time, which for a sync route it does on a
    worker thread: one more thread hop on every search and answer (``response_model``
    still documents the body)."""
    return Response(model.model_dump_json(), media_type="application/json")


def _answer_response(state: AppState, outcome: AnswerOutcome, request_id: str,
                     ) -> AnswerResponse:
    result = outcome.result
    state.metrics.abstentions.labels(str(result.abstained).lower()).inc()
    state.metrics.answer_cache.labels("hit" if outcome.cached else "miss").inc()
    if result.usage.input_tokens or result.usage.output_tokens:
        state.metrics.model_tokens.labels(result.model, "input").inc(result.usage.input_tokens)
        state.metrics.model_tokens.labels(result.model, "output").inc(
            result.usage.output_tokens)
    sources = _source_names(state, {c.doc_id for c in result.citations})
    return AnswerResponse(
        answer=result.answer,
        citations=[CitationPublic(n=c.n, doc_id=c.doc_id, chunk_id=c.chunk_id, title=c.title,
                                  url=c.url, quote=c.quote, source=sources.get(c.doc_id))
                   for c in result.citations],
        abstained=result.abstained, reason=result.reason,
        unsupported_sentences=list(result.unsupported_sentences), model=_model_label(result),
        fallback_from=result.fallback_from,
        usage=UsagePublic(input_tokens=result.usage.input_tokens,
                          output_tokens=result.usage.output_tokens),
        latency_ms=outcome.latency_ms, request_id=request_id,
    )


def _source_names(state: AppState, doc_ids: set[str]) -> dict[str, str]:
    """The source name of each cited document (all of them readable by the asker)."""
    if not doc_ids:
        return {}
    with state.services.sessions() as session:
        rows = session.execute(select(Document.id, Source.name)
                               .join(Source, Source.id == Document.source_id)
                               .where(Document.id.in_(doc_ids)))
        return {doc_id: name for doc_id, name in rows}


def _model_label(result: AnswerResult) -> str:
    return "extractive" if result.fallback_from else result.model


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _answer_events(state: AppState, run: OutcomeStream, request_id: str) -> Iterator[str]:
    """token* then exactly one final, or one error. The final's answer is authoritative."""
    try:
        while True:
            try:
                text = next(run)
            except StopIteration as done:
                outcome: AnswerOutcome = done.value
                break
            yield _sse("token", {"text": text})
        final = _answer_response(state, outcome, request_id)
        yield _sse("final", final.model_dump(mode="json"))
    except ClearanceError as exc:
        yield _sse("error", {"error": {"code": exc.code, "message": exc.message}})
    except Exception as exc:  # the stream has started: an error must be an event
        log.error("answer stream failed", exc_info=exc, extra={"request_id": request_id})
        yield _sse("error", {"error": {"code": "internal_error",
                                       "message": f"Something went wrong (request "
                                                  f"{request_id})."}})
    finally:  # a caller that went away closes the answer now (its audit row says so)
        run.close()


@router.post("/feedback", status_code=201, response_model=FeedbackPublic)
def feedback(body: FeedbackBody, asker: AskerDep, session: SessionDep) -> FeedbackPublic:
    """Rate one of the caller's own answers; anyone else's request id reads as unknown."""
    tenant = asker.caller.tenant
    own = session.scalar(
        select(AuditRecord.id)
        .where(AuditRecord.tenant_id == tenant, AuditRecord.user_id == asker.user_id,
               AuditRecord.request_id == body.request_id,
               AuditRecord.kind.in_(("answer", "search")))
        .limit(1))
    if own is None:
        raise NotFound("No such request.")
    row = session.scalar(select(Feedback).where(
        Feedback.tenant_id == tenant, Feedback.request_id == body.request_id,
        Feedback.user_id == asker.user_id))
    if row is None:  # one rating per answer and user: rating again replaces it
        row = Feedback(tenant_id=tenant, request_id=body.request_id,
                       user_id=asker.user_id, rating=body.rating, comment=body.comment)
        session.add(row)
    else:
        row.rating, row.comment = body.rating, body.comment
    record_for(session, asker.audit, kind="feedback", target=body.request_id,
               status_code=201, detail={"rating": body.rating})
    session.flush()
    public = FeedbackPublic(id=row.id, request_id=row.request_id, rating=row.rating,
                            comment=row.comment)
    session.commit()
    return public


@router.get("/me/history", response_model=History)
def my_history(asker: AskerDep, session: SessionDep,
               limit: int = Query(default=20, ge=1, le=200)) -> History:
    rows = session.scalars(
        select(AuditRecord)
        .where(AuditRecord.tenant_id == asker.caller.tenant,
               AuditRecord.user_id == asker.user_id,
               AuditRecord.kind.in_(("search", "answer")))
        .order_by(AuditRecord.id.desc()).limit(limit)
    )
    return History(items=[HistoryItem(request_id=r.request_id, at=r.at, kind=r.kind,
                                      query=r.query_text, abstained=r.abstained)
                          for r in rows])

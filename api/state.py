"""What the app holds for its lifetime, built by ``create_app`` alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acl import EntitlementResolver
from answer import AnswerCache, AnswerGateway, CircuitBreaker, DailyTokenQuota, create_adapter
from answer.service import Answerer
from core import Settings
from index.embed import cpu_cores
from retrieval import FusionConfig, Retriever, create_reranker
from workers import create_worker
from workers.push import WorkerPushes
from workers.services import Services

from .ingest_queue import IngestQueue, Pushes
from .middleware import Metrics
from .oidc import OidcVerifier
from .scheduler import SourceJobs


@dataclass
class AppState:
    settings: Settings
    services: Services
    retriever: Retriever
    answerer: Answerer
    resolver: EntitlementResolver
    metrics: Metrics
    ingest_queue: IngestQueue
    """Embedded mode's ingest thread; in both modes it retries failed index writes."""
    pushes: Pushes
    """Where pushed documents go: ``ingest_queue``, or the workers in Celery mode."""
    source_jobs: SourceJobs
    """Embedded mode's syncs ("Sync now" and, ticking, the schedule)."""
    oidc: OidcVerifier | None = None
    """Checks users' access tokens; None unless CLEARANCE_OIDC_ISSUER is set."""
    celery: Any = None
    """Celery mode: the client that sends tasks to the workers (it runs none)."""

    @classmethod
    def build(cls, settings: Settings, services: Services, metrics: Metrics) -> AppState:
        retriever = Retriever(
            store=services.store, embedder=services.embedder, sessions=services.sessions,
            fusion=FusionConfig.from_settings(settings),
            reranker=create_reranker(settings),  # None unless CLEARANCE_RERANKER_MODEL is set
            max_concurrent=settings.search_concurrency or _default_search_turns(settings),
        )
        resolver = EntitlementResolver(services.sessions)
        embedded = settings.task_queue == "embedded"
        # In Celery mode beat's tick repairs (workers.tasks), once for the whole cluster.
        ingest_queue = IngestQueue(services, repair_interval_s=settings.repair_interval_s
                                   if embedded else None)
        source_jobs = SourceJobs(settings, services, ingest_queue)
        if embedded and settings.embedded_scheduler:
            source_jobs.start_ticking()
        celery = create_worker(settings) if settings.task_queue == "celery" else None
        return cls(settings=settings, services=services, retriever=retriever,
                   answerer=Answerer(retriever=retriever,
                                     adapter=answer_gateway(settings, services, metrics),
                                     cache=AnswerCache(settings.answer_cache_size),
                                     deadline_s=settings.answer_deadline_s,
                                     usd_per_mtok=_prices(settings),
                                     quota=_token_quota(settings),
                                     injection_action=settings.injection_action),
                   resolver=resolver, metrics=metrics,
                   ingest_queue=ingest_queue, source_jobs=source_jobs,
                   pushes=(ingest_queue if celery is None
                           else WorkerPushes(celery, services.sessions)),
                   oidc=OidcVerifier(settings, entitlements=resolver.entitlements_for)
                   if settings.oidc_issuer else None, celery=celery)

    def close(self) -> None:
        self.source_jobs.close()
        self.ingest_queue.close()
        if self.celery is not None:
            self.celery.clearance_runtime.close()
        if self.oidc is not None:
            self.oidc.close()


def _default_search_turns(settings: Settings) -> int | None:
    """The embedded engine searches on this process's CPU: as many turns as cores. A
    Qdrant server's search is a wait on the network, which other searches may overlap."""
    return None if settings.qdrant_url else cpu_cores()


def _prices(settings: Settings) -> tuple[float, float] | None:
    if settings.model_input_usd_per_mtok is None or settings.model_output_usd_per_mtok is None:
        return None
    return settings.model_input_usd_per_mtok, settings.model_output_usd_per_mtok


def _token_quota(settings: Settings) -> DailyTokenQuota | None:
    """Usage is counted whenever a model adapter is configured (budgets set or not, so that
    setting one later starts from the day's true count); the extractive one spends none."""
    if settings.model_adapter == "extractive":
        return None
    return DailyTokenQuota(user_daily=settings.user_daily_token_budget,
                           tenant_daily=settings.tenant_daily_token_budget)


def answer_gateway(settings: Settings, services: Services, metrics: Metrics,
                   **model_config: object) -> AnswerGateway:
    """The adapter of ``CLEARANCE_MODEL_ADAPTER`` behind the gateway, with the extractive
    adapter as its fallback (or alone, when it is the one chosen). ``model_config`` is
    handed to a model adapter's factory as well (tests pass ``http_client``)."""
    extractive_config: dict[str, object] = {
        "embed": services.embedder.embed_documents}  # MiniLM is loaded anyway: use it
    if settings.abstain_threshold is not None:
        extractive_config["min_evidence"] = settings.abstain_threshold
    extractive = create_adapter("extractive", **extractive_config)
    if settings.model_adapter == "extractive":
        primary = extractive
    else:
        config: dict[str, object] = {**model_config}
        if settings.model_adapter in ("openai", "anthropic"):
            key = settings.model_api_key
            config.update(model=settings.model_name, base_url=settings.model_base_url,
                          api_key=key.get_secret_value() if key is not None else None,
                          timeout_s=settings.model_timeout_s,
                          max_input_tokens=settings.model_max_input_tokens,
                          redact_pii=settings.model_redact_pii)
            if settings.abstain_threshold is not None:
                config["min_evidence"] = settings.abstain_threshold
        primary = create_adapter(settings.model_adapter, **config)
        warm_up = getattr(primary, "warm_up", None)
        if callable(warm_up):
            warm_up()
    return AnswerGateway(
        primary, fallback=None if primary is extractive else extractive,
        breaker=CircuitBreaker(failure_threshold=settings.model_breaker_failures,
                               cooldown_s=settings.model_breaker_cooldown_s),
        on_violation=lambda kind: metrics.model_output_violations.labels(kind).inc(),
        on_fallback=lambda kind, reason: metrics.model_fallbacks.labels(kind, reason).inc(),
    )

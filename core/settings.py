"""One settings object for the whole process (env vars prefixed ``CLEARANCE_``).

Nothing here runs at import: ``create_app(settings)`` / ``create_worker(settings)`` and the
CLI build a ``Settings`` and hand it down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_DEFAULT_SECRET = "clearance-dev-secret-change-me"
_OIDC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                              "ES256", "ES384", "ES512", "EdDSA"})


def _secure_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1", "::1")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLEARANCE_", env_file=None, extra="ignore", frozen=True
    )

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("./.clearance-data")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite at DATA_DIR/clearance.db. "
        "Use postgresql+psycopg://... for PostgreSQL.",
    )
    qdrant_url: str | None = Field(
        default=None,
        description="Qdrant server URL (or ':memory:' for qdrant-client's local mode). "
        "Unset: the embedded Qdrant Edge shard under DATA_DIR/edge.",
    )
    qdrant_api_key: SecretStr | None = None
    collection: str = "clearance_chunks"

    secret_key: SecretStr = SecretStr(_DEFAULT_SECRET)
    admin_api_key: SecretStr | None = None
    admin_group: str = "group:clearance-admins"

    # Sign-in with OpenID Connect (api/oidc.py). Unset issuer: no user tokens, keys only.
    oidc_issuer: str | None = Field(
        default=None, description="The OpenID Connect issuer URL, exactly as its tokens' "
        "'iss' claim spells it (e.g. https://login.example.com/realms/acme). Set: the API "
        "accepts users' access tokens (JWTs) checked against the issuer's JWKS, and the web "
        "page signs in with authorization code + PKCE. Unset: API keys only.")
    oidc_audience: str | None = Field(
        default=None, description="The 'aud' an access token must carry to be accepted "
        "(the API's identifier at the issuer); required with CLEARANCE_OIDC_ISSUER.")
    oidc_client_id: str | None = Field(
        default=None, description="The web page's public client id at the issuer (for its "
        "authorization code + PKCE sign-in; no client secret exists or is needed).")
    oidc_scopes: list[str] = Field(
        default=["openid", "email", "profile"], description="Scopes the page asks for "
        "(add the API's own scope where the issuer needs one to put the audience in tokens)")
    oidc_jwks_url: str | None = Field(
        default=None, description="The issuer's JWKS; default: 'jwks_uri' of "
        "ISSUER/.well-known/openid-configuration")
    oidc_user_claim: str = Field(
        default="email", description="The claim holding the user's email, which becomes "
        "'user:<email>': documents' ACLs and groups name users by email, so an opaque 'sub' "
        "would match nothing. Use e.g. 'preferred_username' or 'upn' where the issuer puts "
        "the email there. A token with email_verified=false is refused.")
    oidc_tenant_claim: str | None = Field(
        default=None, description="The claim naming the user's tenant; unset: every signed-in "
        "user is in tenant 'default'. Set: a token without it is refused.")
    oidc_groups_claim: str | None = Field(
        default=None, description="Not supported: group membership, and so what a user may "
        "read and whether they are an admin, comes from SQL only (synced from sources or set "
        "with PUT /v1/groups), where every change bumps the tenant's acl_epoch that all "
        "permission caches key on. Groups in a token would bypass that; setting this fails.")
    oidc_algorithms: list[str] = Field(
        default=["RS256", "ES256"], description="Signature algorithms accepted (asymmetric "
        "only: 'none' and HS* are always refused)")
    oidc_leeway_s: float = Field(
        default=30.0, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat")
    oidc_jwks_ttl_s: float = Field(
        default=3600.0, gt=0, description="How long the issuer's discovery document and "
        "JWKS are cached before they are fetched again")
    oidc_jwks_min_refetch_s: float = Field(
        default=30.0, ge=0, description="A token with an unknown key id refetches the JWKS "
        "(key rotation), at most once per this interval")
    oidc_http_timeout_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        if self.oidc_groups_claim is not None:
            raise ValueError(
                "CLEARANCE_OIDC_GROUPS_CLAIM is not supported: Clearance reads group "
                "membership (and admin rights) from its own database only. Sync the "
                "issuer's groups through a source or PUT /v1/groups, and unset it.")
        refused = [a for a in self.oidc_algorithms if a not in _OIDC_ALGORITHMS]
        if refused or not self.oidc_algorithms:
            raise ValueError(
                f"CLEARANCE_OIDC_ALGORITHMS: {refused or 'empty'} refused; choose among "
                f"{', '.join(sorted(_OIDC_ALGORITHMS))} (asymmetric algorithms only).")
        if self.oidc_issuer is None:
            return self
        for name, url in (("ISSUER", self.oidc_issuer), ("JWKS_URL", self.oidc_jwks_url)):
            if url is not None and not _secure_url(url):
                raise ValueError(f"CLEARANCE_OIDC_{name} must be an https:// URL "
                                 "(http:// only for localhost).")
        if not self.oidc_audience:
            raise ValueError("CLEARANCE_OIDC_ISSUER needs CLEARANCE_OIDC_AUDIENCE (the 'aud' "
                             "of the API's access tokens): without it a token minted for any "
                             "other application of the issuer would be accepted.")
        return self

    max_upload_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    wait_timeout_s: float = Field(default=60.0, gt=0)
    repair_interval_s: float = Field(
        default=30.0, gt=0, description="How often the ingest thread re-pushes ACL payloads "
        "and point deletions that failed (documents marked needs_retry); in Celery mode "
        "beat's tick does it instead, every schedule_tick_s.")

    server_timing: bool = Field(
        default=False, description="Add a Server-Timing header (auth, entitlements, embed, "
        "engine, recheck, audit, ...) to API responses: for benchmarks and profiling.")
    audit_query_text: bool = Field(
        default=True, description="Store the question text in audit rows (its hash always)."
    )
    fusion: str = Field(
        default="weighted", pattern="^(engine_rrf|rrf|weighted)$",
        description="How the dense and keyword legs combine: 'weighted' (convex combination "
        "of each leg's scores over its best; the default, bench/beir.py), 'rrf', or "
        "'engine_rrf' (reciprocal rank fusion inside Qdrant)")
    rrf_k: int = Field(default=60, gt=0)
    dense_weight: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="The dense leg's share in 'weighted' fusion (the keyword leg has the rest)")
    lead_bonus: float = Field(
        default=0.06, ge=0.0, le=1.0,
        description="Added in 'weighted' fusion to a document's first chunk, where it says "
        "what it is about (retrieval/fusion.py; chosen on SciFact's train split)")
    idf_sample_chunks: int = Field(
        default=5_000, ge=0,
        description="When a caller may read more than twice this many chunks, the keyword "
        "leg's IDF is measured on a fixed sample of about this many of them (the engine's "
        "cost grows with the corpus it measures; index/store/idf_sample.py). 0: always all.")

    search_concurrency: int | None = Field(
        default=None, ge=1,
        description="Searches one API process runs at once (query embedding, engine, SQL "
        "re-check); the others wait their turn, and the wait shows as 'queue' in "
        "Server-Timing. Every request thread searching at once thrashes a small machine: "
        "with 16 clients on 2 cores, 2 at a time answered ~17% more searches a second "
        "(means of five runs; retrieval/search.py). Unset: the CPU cores this process may "
        "use with the embedded store; no limit with a Qdrant server, whose searches wait "
        "on the network rather than the CPU.")

    reranker_model: Path | None = Field(
        default=None, description="A local cross-encoder directory (sentence-transformers "
        "CrossEncoder, or a Hugging Face sequence-classification model with one label) that "
        "rescores the best fused, re-checked chunks; never downloaded. Unset: no reranking.")
    rerank_depth: int = Field(
        default=30, gt=0, description="How many of the best fused chunks the reranker "
        "rescores; the rest follow them in fused order")

    model_adapter: str = Field(
        default="extractive", description="extractive | openai | anthropic (or a kind "
        "registered with answer.register_adapter)")
    model_base_url: str | None = Field(
        default=None, description="OpenAI-compatible or Anthropic endpoint; unset: the "
        "provider's public API.")
    model_name: str | None = Field(
        default=None, description="The model to ask (e.g. 'gpt-4o-mini', 'claude-sonnet-4-5'); "
        "required for the openai and anthropic adapters.")
    model_api_key: SecretStr | None = None
    model_timeout_s: float = Field(default=10.0, gt=0, description="One provider call.")
    answer_deadline_s: float = Field(
        default=20.0, gt=0, description="The whole answer, retries and fallback included.")
    model_breaker_failures: int = Field(
        default=3, ge=1, description="Consecutive provider failures that open the breaker.")
    model_breaker_cooldown_s: float = Field(
        default=30.0, gt=0, description="How long an open breaker skips the provider.")
    model_max_input_tokens: int = Field(
        default=6000, ge=1000, description="Prompt budget (estimated): the lowest-ranked "
        "context is cut or left out to fit.")
    model_redact_pii: bool = Field(
        default=True, description="Replace e-mails, phone, card and IBAN numbers by "
        "placeholders before a model provider sees them (put back in its answer).")
    model_input_usd_per_mtok: float | None = Field(
        default=None, ge=0, description="Price of a million prompt tokens; with the output "
        "price set, each answer's cost_usd goes into its audit row.")
    model_output_usd_per_mtok: float | None = Field(default=None, ge=0)
    user_daily_token_budget: int | None = Field(
        default=None, ge=1, description="Model tokens (input + output, as the provider "
        "reports them) one user may spend a UTC day; once spent, /v1/answer answers 429 "
        "token_budget_exceeded until the next UTC midnight. Unset: unlimited. The extractive "
        "adapter spends none and is never refused.")
    tenant_daily_token_budget: int | None = Field(
        default=None, ge=1, description="The same for all users of a tenant together.")
    answer_cache_size: int = Field(
        default=1024, ge=0, description="Answers kept in the in-process cache (0: off).")
    abstain_threshold: float | None = Field(
        default=None, description="Answerability probability (0..1) under which answers "
        "abstain (default: the calibrated value in answer/_calibration.py)."
    )
    injection_action: Literal["mark", "drop", "quarantine"] = Field(
        default="mark", description="What happens to a retrieved chunk the injection detector "
        "(answer/injection.py) flags. 'mark': the model gets it labelled suspicious, as data; "
        "'drop': it is kept from the model; 'quarantine': kept from the model and named by id "
        "in the audit row. Every action names or counts flags in the audit row, never text. "
        "Default 'mark': the classifier also flags how-to text written to the reader ('Please "
        "attach your receipts') and questions (bench/injection.py: 12% of clean BIPIA e-mails, "
        "60% of Stack Overflow answers), so withholding would lose answers a user may read."
    )

    embedder: str = Field(
        default="minilm-auto",
        description="'minilm-auto': all-MiniLM-L6-v2 on ONNX Runtime int8 on CPU (>2x PyTorch, "
        "bench/embedder.py), PyTorch on CUDA; 'minilm-onnx': always ONNX Runtime (CPU); "
        "'minilm': always PyTorch; 'hashing': tests only",
    )
    embed_device: str | None = Field(
        default=None, description="torch device; default: cuda when present, else cpu"
    )
    embed_batch_size: int = Field(default=64, gt=0)
    embed_cache_dir: Path | None = Field(
        default=None, description="Where the ONNX embedder caches the model files it builds "
        "on first start; default DATA_DIR/models"
    )

    task_queue: Literal["embedded", "celery"] = Field(
        default="embedded", description="'embedded': the API process runs syncs and pushed "
        "documents on its ingest thread; 'celery': the API enqueues both for the workers "
        "(docker-compose.yml)")
    broker_url: str = Field(default="redis://127.0.0.1:6379/0",
                            description="Celery broker (and the sync locks' Redis)")
    broker_key_prefix: str = Field(
        default="", description="Prefix for every Redis key the workers use (queues, locks)")
    sync_interval_s: float = Field(
        default=900.0, gt=0, description="Content sync interval of a source (a source's "
        "config.sync_interval_s overrides it)")
    permissions_interval_s: float = Field(
        default=300.0, gt=0, description="Permission sync interval of a source (a source's "
        "config.permissions_interval_s overrides it)")
    permissions_grace_s: float = Field(
        default=86400.0, gt=0, description="How long a source whose permission sync keeps "
        "failing keeps its last synced ACLs; past it the source fails closed (its documents "
        "become unreadable) until a permission sync succeeds (a source's "
        "config.permissions_grace_s overrides it)")
    reconcile_interval_s: float = Field(
        default=21600.0, gt=0, description="Full-listing reconciliation interval of a source "
        "(ids only: deletes what incremental syncs missed; a source's "
        "config.reconcile_interval_s overrides it)")
    schedule_tick_s: float = Field(
        default=30.0, gt=0, description="How often beat (in embedded mode, the API "
        "process) checks which sources are due and which must fail closed")
    embedded_scheduler: bool = Field(
        default=True, description="Embedded mode: the API process runs each source's due "
        "syncs and the stale-permission sweep every schedule_tick_s, as beat and the "
        "workers do with task_queue=celery (off only for tests that drive syncs by hand)")
    sync_lock_ttl_s: float = Field(
        default=600.0, gt=0, description="A sync's Redis lock expires unless renewed this "
        "often (it is renewed at every batch)")
    sync_batch_size: int = Field(default=64, gt=0)
    task_max_retries: int = Field(default=8, ge=0)

    chunk_max_tokens: int = Field(default=256, gt=16, le=256)
    chunk_overlap_tokens: int = Field(default=32, ge=0)

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key.get_secret_value() == _DEFAULT_SECRET
        ):
            raise ValueError(
                "CLEARANCE_SECRET_KEY must be set to a random value in production "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)."
            )
        if self.model_adapter in ("openai", "anthropic"):
            if not self.model_name:
                raise ValueError(f"CLEARANCE_MODEL_ADAPTER={self.model_adapter} needs "
                                 "CLEARANCE_MODEL_NAME (the model to ask).")
            if self.model_api_key is None and (
                self.model_adapter == "anthropic" or self.model_base_url is None
            ):
                raise ValueError(f"CLEARANCE_MODEL_ADAPTER={self.model_adapter} needs "
                                 "CLEARANCE_MODEL_API_KEY (or CLEARANCE_MODEL_BASE_URL for a "
                                 "local OpenAI-compatible server that takes no key).")
        if self.chunk_overlap_tokens >= self.chunk_max_tokens // 2:
            raise ValueError("CLEARANCE_CHUNK_OVERLAP_TOKENS must be under half of CHUNK_MAX_TOKENS")
        return self

    @property
    def sql_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clearance.db').resolve()}"

    @property
    def embed_cache_path(self) -> Path:
        return self.embed_cache_dir or self.data_dir / "models"

    @property
    def edge_path(self) -> Path:
        return self.data_dir / "edge"

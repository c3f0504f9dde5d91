"""HTTP shapes of the v1 contract (../shared/API.md), apart from the SQL rows, so a key
digest or an internal field never leaves by accident. Inputs forbid unknown fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_QUERY_CHARS = 2000


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- keys ---------------------------------------------------------------------------

Scope = Literal["query", "act_as", "ingest", "admin"]


class KeyCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)
    user_id: str | None = None
    source_ids: list[str] = Field(default_factory=list)
    tenant: str = Field(default="default", min_length=1, max_length=64)
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _query_keys_have_a_user(self) -> KeyCreate:
        if "query" in self.scopes and not self.user_id:
            raise ValueError("a key with scope 'query' needs a user_id (the user it acts as)")
        return self


class KeyPublic(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    user_id: str | None
    source_ids: list[str]
    tenant: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    key: str = Field(description="Shown once; only its HMAC digest is stored.")


# --- groups and principals ----------------------------------------------------------

class GroupPut(Input):
    members: list[str] = Field(default_factory=list, max_length=10_000)


class GroupPublic(BaseModel):
    id: str
    name: str
    members: list[str]
    source_id: str | None = None


class GroupList(BaseModel):
    groups: list[GroupPublic]
    next_cursor: str | None


class EntitlementsPublic(BaseModel):
    user_id: str
    tenant: str
    principals: list[str]


class CanRead(BaseModel):
    allowed: bool
    reason: str = Field(description="The decision in words, ACL entry first: 'allowed via "
                        "group:eng ← group:platform', 'denied by user:bob@x.com deny entry', "
                        "'no allow entry'.")
    code: Literal["allowed", "denied", "not_allowed"] = Field(
        description="The decision as a stable code.")
    via: list[str] = Field(description="The chain from the user to the deciding ACL entry.")


class UserAccessPublic(BaseModel):
    user_id: str
    via: list[str] = Field(description="From the user to the ACL entry that decides.")
    reason: str


class AclEntryPublic(BaseModel):
    principal: str
    kind: str
    status: Literal["ok", "unknown_group", "empty_group", "unknown_user"]
    users: int = Field(description="Known users this entry reaches.")
    note: str = ""


class DocumentAccessPublic(BaseModel):
    doc_id: str
    acl_version: int
    everyone: bool = Field(description="Every user of the tenant may read it (seen yet or "
                           "not), except those in 'excluded'.")
    readers: list[UserAccessPublic]
    readers_total: int
    excluded: list[UserAccessPublic] = Field(
        description="Users an allow entry reaches whom a deny entry keeps out.")
    excluded_total: int
    allow: list[AclEntryPublic]
    deny: list[AclEntryPublic]
    matches_nobody: list[str] = Field(
        description="ACL entries that reach no user: unknown or empty groups, unseen users.")


# --- sources and documents ----------------------------------------------------------

SourceKind = Literal["push", "filesystem", "confluence", "sharepoint"]


class SourceCreate(Input):
    name: str = Field(min_length=1, max_length=200)
    kind: SourceKind
    config: dict[str, Any] = Field(default_factory=dict)


class SourcePatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    config: dict[str, Any] | None = None


class SourcePublic(BaseModel):
    id: str
    name: str
    kind: str
    config: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    documents: dict[str, int] = Field(default_factory=dict, description="count by status")
    chunks: int = Field(default=0, description="chunks of the indexed documents")


class SourceList(BaseModel):
    sources: list[SourcePublic]


class AclBody(Input):
    allow: list[str] = Field(default_factory=list, max_length=10_000)
    deny: list[str] = Field(default_factory=list, max_length=10_000)


class DocumentPut(Input):
    title: str = Field(default="", max_length=1024)
    url: str | None = Field(default=None, max_length=2048)
    text: str | None = None
    content_base64: str | None = None
    mime_type: str | None = Field(default=None, max_length=128)
    acl: AclBody
    updated_at: datetime | None = None
    metadata: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _text_or_content(self) -> DocumentPut:
        if (self.text is None) == (self.content_base64 is None):
            raise ValueError("give either 'text' or 'content_base64' (with 'mime_type')")
        if self.content_base64 is not None and not self.mime_type:
            raise ValueError("'content_base64' needs a 'mime_type'")
        return self


class DocumentAccepted(BaseModel):
    doc_id: str
    status: str
    chunks: int | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class DocumentPublic(BaseModel):
    doc_id: str
    source_id: str
    external_id: str
    title: str
    url: str | None
    status: str
    acl: AclBody
    chunks: int
    error: ErrorDetail | None
    updated_at: datetime | None


# --- asking -------------------------------------------------------------------------

class SearchFiltersBody(Input):
    source_ids: list[str] | None = Field(default=None, max_length=1000)
    metadata: dict[str, str] = Field(default_factory=dict)


class SearchRequest(Input):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    top_k: int = Field(default=10, ge=1, le=100)
    filters: SearchFiltersBody | None = None
    group_by_document: bool = True


class HitPublic(BaseModel):
    doc_id: str
    chunk_id: str
    source_id: str
    external_id: str
    title: str
    url: str | None
    snippet: str
    score: float


class SearchResponse(BaseModel):
    hits: list[HitPublic]
    request_id: str


class AnswerRequestBody(Input):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    stream: bool = False
    top_k: int = Field(default=5, ge=1, le=20, description="chunks given to the model")
    filters: SearchFiltersBody | None = None


class CitationPublic(BaseModel):
    n: int
    doc_id: str
    chunk_id: str
    title: str
    url: str | None
    quote: str
    source: str | None = Field(default=None, description="The name of the document's source.")


class UsagePublic(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class AnswerResponse(BaseModel):
    answer: str
    citations: list[CitationPublic]
    abstained: bool
    reason: str | None
    unsupported_sentences: list[str] = Field(default_factory=list)
    model: str
    fallback_from: str | None = None
    usage: UsagePublic
    latency_ms: int
    request_id: str


class FeedbackBody(Input):
    request_id: str = Field(min_length=1, max_length=64,
                            description="The request_id of one of the caller's own answers.")
    rating: Literal[1, -1]
    comment: str | None = Field(default=None, max_length=4000)


class FeedbackPublic(BaseModel):
    id: int
    request_id: str
    rating: int
    comment: str | None


class HistoryItem(BaseModel):
    request_id: str | None
    at: datetime
    kind: str
    query: str | None
    abstained: bool | None


class History(BaseModel):
    items: list[HistoryItem]


class AuditPublic(BaseModel):
    id: int
    at: datetime
    kind: str
    request_id: str | None
    caller: str | None
    on_behalf_of: str | None
    user_id: str | None
    target: str | None
    query: str | None
    query_hash: str | None
    chunk_ids: list[str]
    model: str | None
    model_version: str | None
    abstained: bool | None
    reason: str | None
    status_code: int | None
    latency_ms: int | None
    detail: dict[str, Any] = Field(
        default_factory=dict,
        description="Kind-specific facts; permission changes carry 'before' and 'after'.")


class AuditList(BaseModel):
    records: list[AuditPublic]
    next_cursor: str | None


# --- sync runs (workers and connectors) ----------------------------------------------


class SyncRunPublic(BaseModel):
    id: str
    kind: str = Field(description="content | permissions | reconcile | fail_closed (the "
                      "source's permissions went stale past their grace period)")
    status: str = Field(description="running | succeeded | failed | crashed | "
                        "needs_credentials")
    started_at: datetime
    finished_at: datetime | None
    seen: int
    new: int
    changed: int
    unchanged: int
    deleted: int
    failed: int
    resumed_from: dict[str, Any] | None = Field(
        description="The checkpoint the run started from (null: from the beginning)")
    checkpoint: dict[str, Any] | None = Field(description="The last checkpoint reached")
    error: ErrorDetail | None = None


class SyncRunList(BaseModel):
    runs: list[SyncRunPublic]


class SourcePermissionsPublic(BaseModel):
    """Whether the source's synced permissions are current (``workers.grace``)."""

    status: Literal["ok", "failing", "fail_closed"] = Field(
        description="ok | failing (the permission sync fails; the last synced ACLs hold "
        "until closes_at) | fail_closed (past the grace period: no document of the source "
        "is readable until a permission sync succeeds)")
    last_success_at: datetime | None = None
    failing_since: datetime | None = None
    grace_s: float
    closes_at: datetime | None = None
    closed_at: datetime | None = None
    message: str | None = None


class SourceWithRuns(SourcePublic):
    status: str = Field(default="idle", description="idle | running | ok | failed | "
                        "needs_credentials (from the last content run), or "
                        "permissions_stale_fail_closed (its permission sync has failed for "
                        "longer than the grace period: its documents are unreadable)")
    last_run: SyncRunPublic | None = None
    permissions: SourcePermissionsPublic | None = None


class SourceListWithRuns(BaseModel):
    sources: list[SourceWithRuns]


class SyncAccepted(BaseModel):
    source_id: str
    status: str = Field(description="queued | running (a sync of this source is under way)")


# --- the caller and the document finder (web UI) -------------------------------------

class MePublic(BaseModel):
    user_id: str | None = Field(description="The user this credential acts as (null for a "
                                "key that acts for others).")
    name: str | None = None
    tenant: str
    scopes: list[str]
    is_admin: bool = Field(description="A member of CLEARANCE_ADMIN_GROUP, or an admin key.")


class DocumentFound(DocumentPublic):
    source_name: str


class DocumentList(BaseModel):
    documents: list[DocumentFound]
    next_cursor: str | None = None

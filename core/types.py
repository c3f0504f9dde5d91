"""Shared domain types: frozen values that every step takes and returns."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

EVERYONE = "everyone"
DEFAULT_TENANT = "default"

_ID_NAMESPACE = uuid.UUID("5b0f7a57-4c1e-4d0e-9a53-636c65617261")


def user_principal(email: str) -> str:
    """``user:<email>`` with the email lower-cased (a bare email or a ``user:`` id)."""
    email = email.strip()
    if email.lower().startswith("user:"):
        email = email[5:]
    return f"user:{email.lower()}"


def normalize_principal(principal_id: str) -> str:
    """Canonical form of a principal id: user emails and managed group names lower-cased
    (``group:Eng`` is ``group:eng``), synced ids ``group:<source>:<id>`` kept as spelled,
    so a deny entry can never miss through capitalisation."""
    principal_id = principal_id.strip()
    lowered = principal_id.lower()
    if lowered.startswith("user:"):
        return user_principal(principal_id)
    if lowered == EVERYONE:
        return EVERYONE
    if lowered.startswith("group:"):
        rest = principal_id[6:].strip()
        return f"group:{rest}" if ":" in rest else f"group:{rest.lower()}"
    return principal_id


def document_id(source_id: str, external_id: str) -> str:
    """The stable id of a document: the same for a (source, external id) across re-ingests."""
    return uuid.uuid5(_ID_NAMESPACE, f"{source_id}\x00{external_id}").hex


def chunk_id(doc_id: str, content_hash: str, ordinal: int) -> str:
    """Point id of one chunk of one version of a document (a UUID string, as Qdrant wants)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{doc_id}\x00{content_hash}\x00{ordinal}"))


def content_hash(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True)
class Acl:
    """Who may read a document. Deny beats allow; an empty allow list lets nobody in."""

    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()

    @classmethod
    def of(cls, allow: list[str] | tuple[str, ...] | frozenset[str] = (),
           deny: list[str] | tuple[str, ...] | frozenset[str] = ()) -> Acl:
        return cls(
            allow=frozenset(normalize_principal(p) for p in allow if p.strip()),
            deny=frozenset(normalize_principal(p) for p in deny if p.strip()),
        )

    def permits(self, principals: frozenset[str]) -> bool:
        return bool(self.allow & principals) and not (self.deny & principals)


@dataclass(frozen=True)
class RawDocument:
    """What a connector yields: the bytes of one document and its access rules."""

    external_id: str
    title: str
    content: bytes
    mime_type: str
    acl: Acl | None
    """None means the source said nothing: the document is readable by nobody (fail closed)."""
    url: str | None = None
    updated_at: datetime | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


ElementKind = Literal["title", "heading", "paragraph", "table", "list"]


@dataclass(frozen=True)
class Element:
    """One structural piece of a parsed document."""

    kind: ElementKind
    text: str
    level: int = 0
    """Heading depth (1 = top); 0 for everything that is not a heading."""


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    ordinal: int
    text: str
    heading_path: tuple[str, ...] = ()
    char_start: int = 0
    char_end: int = 0
    """Span of the chunk in the document's parsed text (elements joined by blank lines)."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller acting as one user of one tenant."""

    id: str
    tenant: str = DEFAULT_TENANT


@dataclass(frozen=True)
class Entitlements:
    """The resolved principal set of one user: a required argument of every retrieval."""

    tenant: str
    principals: frozenset[str]

    def __post_init__(self) -> None:
        if not self.tenant:
            raise ValueError("Entitlements need a tenant")


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    source_id: str
    score: float
    text: str
    title: str
    url: str | None
    ordinal: int
    content_hash: str
    acl_version: int
    heading_path: tuple[str, ...] = ()
    external_id: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    snippet: str = ""


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    chunk_id: str
    title: str
    url: str | None
    quote: str

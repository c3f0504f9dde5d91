"""The payload of a chunk point, written and read the same way by every store.

One layout means a hit looks the same whichever engine returned it, and the filter keys in
``filters.py`` (``tenant``, ``acl_allow``, ``acl_deny``, ``source_id``, ``doc_id``,
``content_hash``, ``metadata.<key>``) name real payload paths in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core import Hit

from .base import ChunkPoint
from .idf_sample import SAMPLE_FIELD, rates_of

KEYWORD_INDEXES: tuple[str, ...] = (
    "acl_allow", "acl_deny", "source_id", "doc_id", "content_hash",
)
"""Keyword payload indexes besides ``tenant`` (which is indexed with ``is_tenant=True``):
every field the ACL, document and caller filters match on. ``idf_sample`` is indexed too, by
each store once every point has one (``idf_sample.py``)."""
TENANT_FIELD = "tenant"
KEY_FIELDS: tuple[str, ...] = ("doc_id", "content_hash", "acl_version", "ordinal")
"""What a ``keys_only`` hit carries: enough to fuse (``ordinal``: the lead chunk's bonus),
group per document and re-check."""


def payload_of(point: ChunkPoint) -> dict[str, Any]:
    """JSON-ready payload. Principal sets are stored as sorted lists (``MatchAny`` on a list
    field matches when any element matches)."""
    return {
        "tenant": point.tenant,
        "source_id": point.source_id,
        "doc_id": point.doc_id,
        "external_id": point.external_id,
        "content_hash": point.content_hash,
        "ordinal": point.ordinal,
        "text": point.text,
        "title": point.title,
        "url": point.url,
        "heading_path": list(point.heading_path),
        "acl_allow": sorted(point.acl_allow),
        "acl_deny": sorted(point.acl_deny),
        "acl_version": point.acl_version,
        "updated_at": point.updated_at,
        "metadata": dict(point.metadata),
        SAMPLE_FIELD: rates_of(point.id),
    }


def acl_payload(*, allow: frozenset[str], deny: frozenset[str], acl_version: int
                ) -> dict[str, Any]:
    """The fields ``set_acl`` rewrites in place, shaped as ``payload_of`` writes them."""
    return {"acl_allow": sorted(allow), "acl_deny": sorted(deny), "acl_version": acl_version}


def filled(hits: Sequence[Hit], payloads: Mapping[str, Mapping[str, Any] | None],
           ) -> list[Hit]:
    """``VectorStore.fill``'s result from the payloads found by id (stores share it)."""
    return [hit_of(h.chunk_id, h.score, payloads[h.chunk_id]) for h in hits
            if payloads.get(h.chunk_id) is not None]


def hit_of(point_id: object, score: float, payload: Mapping[str, Any] | None) -> Hit:
    """A ``Hit`` from a scored point; ``snippet`` stays empty (retrieval fills it)."""
    p: Mapping[str, Any] = payload or {}
    metadata = p.get("metadata") or {}
    return Hit(
        chunk_id=str(point_id),
        doc_id=str(p.get("doc_id", "")),
        source_id=str(p.get("source_id", "")),
        score=float(score),
        text=str(p.get("text", "")),
        title=str(p.get("title", "")),
        url=p.get("url"),
        ordinal=int(p.get("ordinal", 0)),
        content_hash=str(p.get("content_hash", "")),
        acl_version=int(p.get("acl_version", 0)),
        heading_path=tuple(str(h) for h in p.get("heading_path") or ()),
        external_id=str(p.get("external_id", "")),
        metadata={str(k): str(v) for k, v in metadata.items()},
    )


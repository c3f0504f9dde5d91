"""The one internal filter value. Built once from entitlements (+ caller filters) and
translated by each store, so the embedded engine and the server filter identically."""

from __future__ import annotations

from dataclasses import dataclass

from core import Entitlements

from .base import SearchFilters

NOBODY = "\x00nobody"
"""A principal no document lists: an empty entitlement set must still match nothing."""


@dataclass(frozen=True)
class FieldMatch:
    """``key`` (a payload path) equals one of ``any_of``. For list fields: any element does."""

    key: str
    any_of: frozenset[str]


@dataclass(frozen=True)
class FilterSpec:
    must: tuple[FieldMatch, ...] = ()
    must_not: tuple[FieldMatch, ...] = ()


def acl_filter(entitlements: Entitlements, filters: SearchFilters | None = None) -> FilterSpec:
    """Tenant AND (allow ∩ principals ≠ ∅) AND NOT (deny ∩ principals ≠ ∅) AND caller filters."""
    principals = entitlements.principals or frozenset({NOBODY})
    must = [
        FieldMatch("tenant", frozenset({entitlements.tenant})),
        FieldMatch("acl_allow", principals),
    ]
    if filters is not None:
        if filters.source_ids is not None:
            must.append(FieldMatch("source_id", filters.source_ids or frozenset({NOBODY})))
        if filters.doc_ids is not None:
            must.append(FieldMatch("doc_id", filters.doc_ids or frozenset({NOBODY})))
        for key, value in sorted(filters.metadata.items()):
            must.append(FieldMatch(f"metadata.{key}", frozenset({value})))
    return FilterSpec(must=tuple(must), must_not=(FieldMatch("acl_deny", principals),))


def document_filter(tenant: str, doc_id: str, *, except_content_hash: str | None = None
                    ) -> FilterSpec:
    """Every point of one document (optionally sparing one version's points)."""
    must = (FieldMatch("tenant", frozenset({tenant})), FieldMatch("doc_id", frozenset({doc_id})))
    must_not: tuple[FieldMatch, ...] = ()
    if except_content_hash is not None:
        must_not = (FieldMatch("content_hash", frozenset({except_content_hash})),)
    return FilterSpec(must=must, must_not=must_not)


def tenant_filter(tenant: str) -> FilterSpec:
    return FilterSpec(must=(FieldMatch("tenant", frozenset({tenant})),))

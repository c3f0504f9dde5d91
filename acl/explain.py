"""Why a user may or may not read a document: the answer behind ``can-read``.

The decision itself is ``Acl.permits`` (deny beats allow; an empty allow list lets nobody
in); this module only adds the chain of principals that made it, e.g.
``("user:bob@x.com", "group:platform", "group:eng")`` for a document allowed to
``group:eng``. ``explain_access`` is pure (the chains come from
``acl.entitlements.membership_chains``); ``explain_document_access`` loads both from SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from core.errors import NotFound
from core.models import Document, DocumentStatus
from core.types import Acl, Entitlements

from .entitlements import membership_chains

AccessReason = Literal["allowed", "denied", "not_allowed"]
"""``allowed``: an allow entry matches and no deny entry does. ``denied``: a deny entry
matches (whatever the allow list says). ``not_allowed``: no allow entry matches."""


@dataclass(frozen=True)
class AccessExplanation:
    allowed: bool
    reason: AccessReason
    via: tuple[str, ...]
    """The chain from the user to the ACL entry that decided; empty for ``not_allowed``."""

    @property
    def message(self) -> str:
        """The decision in words, ACL entry first: ``allowed via group:eng ← group:platform``,
        ``denied by user:bob@x.com deny entry``, ``no allow entry``."""
        if self.reason == "not_allowed" or not self.via:
            return "no allow entry"
        entry, groups = self.via[-1], " ← ".join(reversed(self.via[1:]))
        if self.reason == "allowed":
            return f"allowed via {groups}" if groups else f"allowed by {entry} allow entry"
        if len(self.via) > 2:
            return f"denied by {entry} deny entry, via {groups}"
        return f"denied by {entry} deny entry"


def explain_access(
    acl: Acl,
    *,
    entitlements: Entitlements,
    chains: Mapping[str, tuple[str, ...]],
) -> AccessExplanation:
    """Decide as ``acl.permits(entitlements.principals)`` does, and say through whom.

    Of several matching entries the shortest chain wins, then the alphabetically first,
    so the same question always gets the same answer. A held principal without a chain
    in ``chains`` is reported as a chain of itself alone.
    """
    held = entitlements.principals
    denied_by = acl.deny & held
    if denied_by:
        return AccessExplanation(False, "denied", _best_chain(denied_by, chains))
    allowed_by = acl.allow & held
    if allowed_by:
        return AccessExplanation(True, "allowed", _best_chain(allowed_by, chains))
    return AccessExplanation(False, "not_allowed", ())


def explain_document_access(
    session: Session, *, tenant: str, user_id: str, doc_id: str
) -> AccessExplanation:
    """``explain_access`` for a stored document, as ``can-read`` answers it.

    A document of another tenant, or a deleted one, raises ``NotFound`` exactly like a
    missing one, so the answer never tells a caller what exists elsewhere.
    """
    document = live_document(session, tenant=tenant, doc_id=doc_id)
    chains = membership_chains(session, tenant=tenant, user_id=user_id)
    return explain_access(
        Acl.of(document.acl_allow, document.acl_deny),
        entitlements=Entitlements(tenant=tenant, principals=frozenset(chains)),
        chains=chains,
    )


def live_document(session: Session, *, tenant: str, doc_id: str) -> Document:
    """The tenant's document ``doc_id`` unless deleted; ``NotFound`` for one of another
    tenant or a deleted one exactly as for a missing one."""
    document = session.get(Document, doc_id)
    if (
        document is None
        or document.tenant_id != tenant
        or document.status == DocumentStatus.DELETED
    ):
        raise NotFound(f"no document {doc_id}")
    return document


def _best_chain(
    principals: frozenset[str], chains: Mapping[str, tuple[str, ...]]
) -> tuple[str, ...]:
    candidates = [chains.get(p, (p,)) for p in principals]
    return min(candidates, key=lambda chain: (len(chain), chain))

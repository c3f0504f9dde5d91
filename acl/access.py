"""Who may read a document, and through which chain: the answer behind
``GET /v1/documents/{doc_id}/access``.

``can-read`` walks *up* from one user to the groups that hold them; this walks *down* from
the document's ACL entries to the users they reach, so an admin sees every reader at once:

- ``readers``: users an allow entry reaches and no deny entry does, each with the
  shortest chain (``user → group:platform → group:eng``), the one ``can-read`` reports;
- ``excluded``: users an allow entry reaches but a deny entry stops, with the deny chain;
- per ACL entry, how many users it reaches and whether it matches nobody: a group with no
  row (a typo, or never created), a group that reaches no user, or a user id this tenant
  has never seen (no membership, key or question). Such entries are accepted on purpose
  (a source may name a group before it syncs) and reported here so they can be fixed.

``everyone`` reaches every user of the tenant, including users not seen yet; the lists
name the users this tenant knows (members of groups, users of API keys, people who asked).
For any known user, being in ``readers`` is exactly what ``can-read`` answers.

One breadth-first walk down the membership graph, one statement per level, probing the
memberships primary key (tenant_id, group_id, ...), so it costs the edges it follows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import (
    ApiKey,
    AuditRecord,
    Group,
    Membership,
    PrincipalRow,
)
from core.types import EVERYONE

from .explain import AccessExplanation, live_document
from .principals import PrincipalKind, principal_kind

EntryStatus = Literal["ok", "unknown_group", "empty_group", "unknown_user"]
_IN_BATCH = 1000
"""Ids per ``IN (...)`` list: well under every engine's bound-parameter limit."""

_NOTES: dict[EntryStatus, str] = {
    "ok": "",
    "unknown_group": "no such group in this tenant: matches nobody",
    "empty_group": "the group reaches no user: matches nobody now",
    "unknown_user": "no such user seen in this tenant (no group, key or question): "
                    "matches nobody unless that user appears",
}


@dataclass(frozen=True)
class EntryReport:
    """One ACL entry: what it is and whom it reaches."""

    principal: str
    kind: PrincipalKind
    status: EntryStatus
    users: int
    """Known users the entry reaches (for ``everyone``: the known users of the tenant)."""

    @property
    def note(self) -> str:
        return _NOTES[self.status]


@dataclass(frozen=True)
class UserAccess:
    user_id: str
    via: tuple[str, ...]
    """From the user to the ACL entry that decides, as ``can-read`` reports it."""
    reason: str


@dataclass(frozen=True)
class DocumentAccess:
    doc_id: str
    acl_version: int
    everyone: bool
    """Every user of the tenant may read it, known or not (an ``everyone`` allow entry and
    no ``everyone`` deny entry); ``excluded`` still applies."""
    readers: tuple[UserAccess, ...]
    excluded: tuple[UserAccess, ...]
    allow: tuple[EntryReport, ...]
    deny: tuple[EntryReport, ...]

    @property
    def matches_nobody(self) -> tuple[str, ...]:
        return tuple(e.principal for e in (*self.allow, *self.deny) if e.status != "ok")


def document_access(session: Session, *, tenant: str, doc_id: str) -> DocumentAccess:
    """Everyone the document's current SQL ACL lets in or keeps out, with the chains.

    A document of another tenant, or a deleted one, raises ``NotFound`` exactly like a
    missing one.
    """
    document = live_document(session, tenant=tenant, doc_id=doc_id)
    allow = frozenset(document.acl_allow or ())
    deny = frozenset(document.acl_deny or ())
    children = _walk_down(session, tenant=tenant, seeds=allow | deny)
    known = _known_users(session, tenant=tenant, named=_users_in(allow | deny),
                         everyone=EVERYONE in allow | deny)
    known |= {m for members in children.values() for m in members if _is_user(m)}

    allow_chains = _best_chains(allow, children, known=known)
    deny_chains = _best_chains(deny, children, known=known)
    readers, excluded = [], []
    for user in sorted(u for u in allow_chains if _is_user(u)):
        if user in deny_chains:
            via = deny_chains[user]
            explanation = AccessExplanation(False, "denied", via)
            excluded.append(UserAccess(user, via, explanation.message))
        else:
            via = allow_chains[user]
            readers.append(UserAccess(user, via, AccessExplanation(True, "allowed", via).message))
    groups = _existing_groups(session, tenant=tenant,
                              ids=[p for p in allow | deny if p.startswith("group:")])
    reach = _ReachCounter(children)
    return DocumentAccess(
        doc_id=document.id,
        acl_version=document.acl_version,
        everyone=EVERYONE in allow and EVERYONE not in deny,
        readers=tuple(readers),
        excluded=tuple(excluded),
        allow=tuple(_report(p, groups=groups, known=known, reach=reach) for p in sorted(allow)),
        deny=tuple(_report(p, groups=groups, known=known, reach=reach) for p in sorted(deny)),
    )


def _walk_down(session: Session, *, tenant: str, seeds: Iterable[str],
               ) -> dict[str, list[str]]:
    """``{group: [direct members]}`` for every group reachable down from ``seeds``."""
    children: dict[str, list[str]] = {}
    frontier = sorted({s for s in seeds if s.startswith("group:")})
    while frontier:
        found: dict[str, list[str]] = {}
        for batch in _batches(frontier):
            rows = session.execute(
                select(Membership.group_id, Membership.member_id).where(
                    Membership.tenant_id == tenant, Membership.group_id.in_(batch))
            )
            for group_id, member_id in rows:
                found.setdefault(group_id, []).append(member_id)
        for group_id in frontier:
            children[group_id] = sorted(found.get(group_id, ()))
        frontier = sorted({m for members in found.values() for m in members
                           if m.startswith("group:") and m not in children})
    return children


def _best_chains(entries: Collection[str], children: Mapping[str, list[str]], *,
                 known: Collection[str]) -> dict[str, tuple[str, ...]]:
    """For every principal reached from ``entries``, the least chain by (length, ids),
    principal first and entry last: the same chain ``can-read`` reports for that user."""
    best: dict[str, tuple[str, ...]] = {e: (e,) for e in entries}
    frontier = sorted(e for e in entries if e in children)
    while frontier:
        level: dict[str, tuple[str, ...]] = {}
        for parent in frontier:
            for child in children.get(parent, ()):
                if child in best:
                    continue
                chain = (child, *best[parent])
                if child not in level or chain < level[child]:
                    level[child] = chain
        best.update(level)
        frontier = sorted(c for c in level if c in children)
    if EVERYONE in entries:
        for user in known:
            chain = (user, EVERYONE)
            current = best.get(user)
            if current is None or (len(chain), chain) < (len(current), current):
                best[user] = chain
    return best


class _ReachCounter:
    """How many users each group reaches (memoised over the walked subgraph)."""

    def __init__(self, children: Mapping[str, list[str]]) -> None:
        self._children = children
        self._memo: dict[str, frozenset[str]] = {}

    def users(self, group: str) -> frozenset[str]:
        if group in self._memo:
            return self._memo[group]
        self._memo[group] = frozenset()  # a cycle (never written by put_group) stops here
        found: set[str] = set()
        for member in self._children.get(group, ()):
            if _is_user(member):
                found.add(member)
            elif member.startswith("group:"):
                found |= self.users(member)
        self._memo[group] = frozenset(found)
        return self._memo[group]


def _report(principal: str, *, groups: Collection[str], known: Collection[str],
            reach: _ReachCounter) -> EntryReport:
    kind = principal_kind(principal)
    if kind == "everyone":
        return EntryReport(principal, kind, "ok", len(known))
    if kind == "user":
        status: EntryStatus = "ok" if principal in known else "unknown_user"
        return EntryReport(principal, kind, status, 1 if principal in known else 0)
    if principal not in groups:
        return EntryReport(principal, kind, "unknown_group", 0)
    users = len(reach.users(principal))
    return EntryReport(principal, kind, "ok" if users else "empty_group", users)


def _known_users(session: Session, *, tenant: str, named: Collection[str],
                 everyone: bool) -> set[str]:
    """Users this tenant has seen: all of them when ``everyone`` is in the ACL, else only
    which of ``named`` (the ACL's own user entries) it has seen."""
    sources = [
        (Membership.member_id, Membership.tenant_id),
        (PrincipalRow.id, PrincipalRow.tenant_id),
        (ApiKey.user_id, ApiKey.tenant_id),
        (AuditRecord.user_id, AuditRecord.tenant_id),
    ]
    found: set[str] = set()
    for column, tenant_column in sources:
        if everyone:
            query = select(column).where(tenant_column == tenant, column.like("user:%"))
            found.update(u for u in session.execute(query.distinct()).scalars() if u)
            continue
        for batch in _batches(sorted(set(named) - found)):
            query = select(column).where(tenant_column == tenant, column.in_(batch))
            found.update(u for u in session.execute(query.distinct()).scalars() if u)
    return found


def _existing_groups(session: Session, *, tenant: str, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for batch in _batches(sorted(ids)):
        found.update(session.execute(
            select(Group.id).where(Group.tenant_id == tenant, Group.id.in_(batch))
        ).scalars())
    return found


def _users_in(principals: Iterable[str]) -> list[str]:
    return [p for p in principals if _is_user(p)]


def _is_user(principal: str) -> bool:
    return principal.startswith("user:")


def _batches(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _IN_BATCH):
        yield items[start:start + _IN_BATCH]

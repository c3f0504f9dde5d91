"""Resolving a user's entitlements from SQL: who they are, through every nested group.

``entitlements_for`` is one recursive CTE over ``memberships``: start from the groups
that name the user, then repeatedly add the groups that name a group already found. It
uses ``UNION`` (not ``UNION ALL``), so the walk stops when a round finds nothing new and
terminates even if a cycle were ever written behind ``put_group``'s back.

Membership is read at query time, so a group change never touches the index; callers
that want caching go through ``EntitlementResolver`` (``acl/resolver.py``), which keys on
the tenant's ``acl_epoch``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from sqlalchemy import CTE, func, or_, select, true
from sqlalchemy.orm import Session

from core.models import Membership
from core.types import EVERYONE, Entitlements

from .principals import parse_user


def entitlements_for(session: Session, *, tenant: str, user_id: str) -> Entitlements:
    """``{user:<id>}`` ∪ every group reaching the user, at any depth, ∪ ``{everyone}``.

    One SQL statement. A user nobody has named gets ``{user:<id>, everyone}``: an unknown
    id is not an error, it simply matches nothing else. A malformed id (not an email)
    raises ``AclInvalid`` rather than resolving to a set no ACL could ever contain.
    """
    user = parse_user(user_id)
    reach = _groups_reaching(session, tenant=tenant, principal=user)
    groups = session.execute(select(reach.c.principal)).scalars().all()
    return Entitlements(tenant=tenant, principals=frozenset({user, EVERYONE, *groups}))


def membership_chains(
    session: Session, *, tenant: str, user_id: str
) -> dict[str, tuple[str, ...]]:
    """For every principal the user holds, the shortest chain that gives it to them.

    ``{"group:eng": ("user:bob@x.com", "group:platform", "group:eng"), ...}``; every chain
    starts with the user. It reads only the memberships among the user's own groups (one
    statement), then walks them breadth-first; ties go to the alphabetically first chain
    so the answer is stable. ``acl.explain`` turns these into an answer to "why".
    """
    user = parse_user(user_id)
    return containment_chains(session, tenant=tenant, principal=user) | {
        EVERYONE: (user, EVERYONE)
    }


def containment_chains(
    session: Session, *, tenant: str, principal: str
) -> dict[str, tuple[str, ...]]:
    """``principal`` and every group containing it, each with its shortest chain.

    The walk behind ``membership_chains``, open to any principal (a group, too:
    ``put_group`` asks it which groups already contain the group being changed).
    """
    reach = _groups_reaching(session, tenant=tenant, principal=principal)
    held = select(reach.c.principal)
    edges = session.execute(
        select(Membership.member_id, Membership.group_id).where(
            Membership.tenant_id == tenant,
            Membership.group_id.in_(held),
            or_(Membership.member_id == principal, Membership.member_id.in_(held)),
        )
    ).all()
    parents: dict[str, list[str]] = {}
    for member_id, group_id in edges:
        parents.setdefault(member_id, []).append(group_id)
    return _shortest_chains(principal, parents)


def _groups_reaching(session: Session, *, tenant: str, principal: str) -> CTE:
    """The recursive CTE of every group id that contains ``principal``, directly or nested.

    Each step must *probe* ``ix_memberships_member`` (tenant_id, member_id) once per
    principal found, never scan the tenant's memberships: the walk then costs the edges
    it follows, whatever the tenant's size. Both engines need a nudge to do that on
    tables without planner statistics (SQLite never gathers them by itself; PostgreSQL
    not until autovacuum's next ANALYZE), measured at 300-600 ms against 4-8 ms for a
    user in 2,000 groups:

    - PostgreSQL: each step is a LATERAL subquery per found principal; ``OFFSET 0``
      keeps the planner from flattening it back into a join it may order badly.
    - SQLite: ``unlikely(member_id = ...)`` marks that term as the selective one, or
      the planner prefers the covering primary key and uses only its tenant_id prefix.
    """
    dialect = session.get_bind().dialect.name
    direct = Membership.__table__.alias("direct")
    nested = Membership.__table__.alias("nested")
    seed_match = direct.c.member_id == principal
    if dialect == "sqlite":
        seed_match = func.unlikely(seed_match)
    reach = (
        select(direct.c.group_id.label("principal"))
        .where(direct.c.tenant_id == tenant, seed_match)
        .cte("reach", recursive=True)
    )
    step_match = nested.c.member_id == reach.c.principal
    if dialect == "postgresql":
        parents = (
            select(nested.c.group_id)
            .where(nested.c.tenant_id == tenant, step_match)
            .offset(0)
            .lateral("parents")
        )
        return reach.union(select(parents.c.group_id).select_from(reach).join(parents, true()))
    if dialect == "sqlite":
        step_match = func.unlikely(step_match)
    return reach.union(
        select(nested.c.group_id).join(reach, step_match & (nested.c.tenant_id == tenant))
    )


def _shortest_chains(
    user: str, parents: Mapping[str, list[str]]
) -> dict[str, tuple[str, ...]]:
    chains: dict[str, tuple[str, ...]] = {user: (user,)}
    queue = deque([user])
    while queue:
        member = queue.popleft()
        for group in sorted(parents.get(member, ())):
            if group not in chains:
                chains[group] = (*chains[member], group)
                queue.append(group)
    return chains

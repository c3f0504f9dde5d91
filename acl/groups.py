"""Group administration: the rules an admin can rely on, enforced in one place.

- ``put_group`` replaces a group's member list. Members are users (``user:<email>`` or a
  bare email), managed groups or synced groups. A managed member group that does not
  exist yet is created empty (API.md: an admin may nest ``group:b`` in ``group:a``
  before filling ``group:b``; an empty group grants nothing, and it shows in the group
  list where a typo can be seen). An unknown *synced* group is refused with
  ``AclInvalid``: only its source may create it. ``everyone`` is refused as a member:
  it would quietly make the group hold every user.
- A cycle (a group containing itself, directly or through nesting) is refused with
  ``GroupCycle`` naming the loop, and nothing changes.
- ``delete_group`` removes the group *and* its place in every parent group, so a group
  later created under the same name does not inherit grants it was never given.
- Synced groups (``source_id`` set, ids ``group:<source>:<id>``) belong to their source:
  these functions refuse to write them (``Forbidden``) unless called with
  ``allow_synced=True``, which only connector sync passes.
- Every change bumps the tenant's ``acl_epoch`` in the same transaction, *before* its
  checks, so the checks run under the tenant's write lock (see ``acl/epoch.py``).

These functions never commit: the caller's transaction makes the change and the epoch
visible together, or neither.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from core.errors import AclInvalid, Conflict, Forbidden, GroupCycle, InputError, NotFound
from core.models import Group, Membership, utcnow

from .entitlements import containment_chains
from .epoch import bump_acl_epoch, ensure_tenant
from .principals import group_principal, parse_principal, principal_kind

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class GroupInfo:
    """A group as admin code sees it: its row and its direct members, sorted."""

    id: str
    members: tuple[str, ...]
    source_id: str | None
    display_name: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def synced(self) -> bool:
        return self.source_id is not None


def put_group(
    session: Session,
    *,
    tenant: str,
    group_id: str,
    members: Iterable[str],
    display_name: str | None = None,
    source_id: str | None = None,
    allow_synced: bool = False,
) -> GroupInfo:
    """Create the group or replace its member list; returns the group as stored.

    ``group_id`` is ``group:<name>`` or a bare name (``eng``). ``display_name=None`` keeps
    the current one. Connector sync passes ``source_id`` and ``allow_synced=True``.
    """
    gid = group_principal(group_id)
    wanted = _parse_members(members)
    _check_may_write(gid, source_id=source_id, allow_synced=allow_synced)
    if gid in wanted:
        raise GroupCycle(f"{gid} cannot be a member of itself")

    ensure_tenant(session, tenant)
    bump_acl_epoch(session, tenant)  # first: the checks below then run under the lock

    existing = session.get(Group, (tenant, gid), populate_existing=True)
    if existing is not None:
        _check_may_change(existing, source_id=source_id, allow_synced=allow_synced)
    member_groups = {m for m in wanted if principal_kind(m) in ("group", "synced_group")}
    _create_missing_groups(session, tenant=tenant, group_ids=member_groups)
    _check_no_cycle(session, tenant=tenant, group_id=gid, member_groups=member_groups)

    now = utcnow()
    if existing is None:
        existing = Group(
            tenant_id=tenant, id=gid, source_id=source_id, display_name=display_name,
            created_at=now, updated_at=now,
        )
        session.add(existing)
        session.flush()
        current: set[str] = set()
    else:
        if display_name is not None:
            existing.display_name = display_name
        existing.updated_at = now
        current = _members_of(session, tenant=tenant, group_ids=[gid]).get(gid, set())

    _replace_members(session, tenant=tenant, group_id=gid, current=current, wanted=wanted)
    return _info(existing, wanted)


def _replace_members(session: Session, *, tenant: str, group_id: str, current: set[str],
                     wanted: set[str]) -> None:
    """Delete the members no longer wanted and insert the new ones (the rest stay)."""
    removed, added = current - wanted, wanted - current
    if removed:
        session.execute(
            delete(Membership).where(
                Membership.tenant_id == tenant,
                Membership.group_id == group_id,
                Membership.member_id.in_(removed),
            )
        )
    if added:
        session.execute(
            insert(Membership),
            [{"tenant_id": tenant, "group_id": group_id, "member_id": m}
             for m in sorted(added)],
        )
    session.flush()


def get_group(session: Session, *, tenant: str, group_id: str) -> GroupInfo:
    """The group and its direct members; ``NotFound`` if the tenant has no such group."""
    gid = group_principal(group_id)
    group = session.get(Group, (tenant, gid))
    if group is None:
        raise NotFound(f"no group {gid}")
    return _info(group, _members_of(session, tenant=tenant, group_ids=[gid]).get(gid, set()))


def delete_group(
    session: Session, *, tenant: str, group_id: str, allow_synced: bool = False
) -> None:
    """Delete the group, its member list, and its membership in every other group."""
    gid = group_principal(group_id)
    group = session.get(Group, (tenant, gid))
    if group is None:
        raise NotFound(f"no group {gid}")
    _check_may_change(group, source_id=group.source_id, allow_synced=allow_synced)
    bump_acl_epoch(session, tenant)
    session.execute(
        delete(Membership).where(
            Membership.tenant_id == tenant,
            or_(Membership.group_id == gid, Membership.member_id == gid),
        )
    )
    session.delete(group)
    session.flush()


def list_groups(
    session: Session,
    *,
    tenant: str,
    q: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[GroupInfo], str | None]:
    """One page of the tenant's groups in id order, and the cursor of the next page.

    ``q`` matches a case-insensitive substring of the id or display name. The cursor is
    keyset-based (the last id seen), so pages neither skip nor repeat a group when
    others are added or deleted in between; it is None on the last page.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE_SIZE}, not {limit}")
    query = select(Group).where(Group.tenant_id == tenant)
    if q:
        needle = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Group.id).contains(needle, autoescape=True),
                func.lower(Group.display_name).contains(needle, autoescape=True),
            )
        )
    if cursor is not None:
        query = query.where(Group.id > _decode_cursor(cursor))
    rows = list(session.execute(query.order_by(Group.id).limit(limit + 1)).scalars())
    page, more = rows[:limit], len(rows) > limit
    members = _members_of(session, tenant=tenant, group_ids=[g.id for g in page])
    groups = [_info(g, members.get(g.id, set())) for g in page]
    return groups, (_encode_cursor(page[-1].id) if more else None)


def _parse_members(members: Iterable[str]) -> set[str]:
    if isinstance(members, str):
        raise AclInvalid("members must be a list of principal ids, not one string")
    parsed: set[str] = set()
    problems: list[str] = []
    for raw in members:
        try:
            member = parse_principal(raw)
        except AclInvalid as exc:
            problems.append(exc.message)
            continue
        if principal_kind(member) == "everyone":
            problems.append("everyone cannot be a group member; name it in the ACL instead")
            continue
        parsed.add(member)
    if problems:
        raise AclInvalid("invalid members: " + "; ".join(problems))
    return parsed


def _check_may_write(gid: str, *, source_id: str | None, allow_synced: bool) -> None:
    if allow_synced:
        return
    if source_id is not None or principal_kind(gid) == "synced_group":
        raise Forbidden(
            f"{gid} names a group synced from a source; it is read-only here "
            "(change it in the source)"
        )


def _check_may_change(group: Group, *, source_id: str | None, allow_synced: bool) -> None:
    if group.source_id is not None and not allow_synced:
        raise Forbidden(
            f"{group.id} is synced from a source; it is read-only here (change it in the source)"
        )
    if allow_synced and group.source_id != source_id:
        owner = "managed through the API" if group.source_id is None else "owned by another source"
        raise Conflict(f"{group.id} is {owner}; a sync may only write its own groups")


def _create_missing_groups(session: Session, *, tenant: str, group_ids: set[str]) -> None:
    """Managed member groups that do not exist yet are created empty; synced ones are
    refused (only their source creates them). New empty groups cannot close a cycle."""
    if not group_ids:
        return
    found = set(
        session.execute(
            select(Group.id).where(Group.tenant_id == tenant, Group.id.in_(group_ids))
        ).scalars()
    )
    missing = group_ids - found
    synced = sorted(g for g in missing if principal_kind(g) == "synced_group")
    if synced:
        raise AclInvalid(f"unknown synced group(s) {', '.join(synced)}; "
                         "only their source's sync creates them")
    now = utcnow()
    for gid in sorted(missing):
        session.add(Group(tenant_id=tenant, id=gid, created_at=now, updated_at=now))
    session.flush()


def _check_no_cycle(
    session: Session, *, tenant: str, group_id: str, member_groups: set[str]
) -> None:
    """Refuse members that already contain ``group_id`` (they would then contain themselves)."""
    if not member_groups:
        return
    containing = containment_chains(session, tenant=tenant, principal=group_id)
    looped = sorted(m for m in member_groups if m in containing)
    if looped:
        chain = containing[looped[0]]  # (group_id, parent, ..., looped member)
        loop = " contains ".join((*reversed(chain), looped[0]))
        raise GroupCycle(
            f"adding {looped[0]} to {group_id} would make a cycle: {loop}"
        )


def _members_of(
    session: Session, *, tenant: str, group_ids: list[str]
) -> dict[str, set[str]]:
    if not group_ids:
        return {}
    out: dict[str, set[str]] = {}
    rows = session.execute(
        select(Membership.group_id, Membership.member_id).where(
            Membership.tenant_id == tenant, Membership.group_id.in_(group_ids)
        )
    )
    for gid, member_id in rows:
        out.setdefault(gid, set()).add(member_id)
    return out


def _info(group: Group, members: set[str]) -> GroupInfo:
    return GroupInfo(
        id=group.id,
        members=tuple(sorted(members)),
        source_id=group.source_id,
        display_name=group.display_name,
        created_at=_as_utc(group.created_at),
        updated_at=_as_utc(group.updated_at),
    )


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for UTC-aware columns; give both engines' alike."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InputError(
            "invalid cursor; pass the next_cursor returned by the previous page"
        ) from exc

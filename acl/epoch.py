"""The tenant's ``acl_epoch``: the one number every permission-dependent cache keys on.

Every permission change (a membership, a document's ACL, a delete) calls
``bump_acl_epoch`` in the same transaction as the change, so the new epoch becomes
visible to other processes at exactly the moment the change does, and a cache keyed on
the epoch can never serve a grant that was revoked before the query started.

The bump is one atomic ``UPDATE ... SET acl_epoch = acl_epoch + 1``, never a read and a
write, so two concurrent changes always give two distinct epochs. It also takes the
tenant row's write lock until commit: a change that bumps *first* and checks afterwards
(``put_group`` does, for cycles) sees every change committed before it, so two
concurrent edits cannot each pass a check that only their combination fails.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from core.errors import InputError, NotFound
from core.models import Tenant, utcnow

MAX_TENANT_LENGTH = 64


def ensure_tenant(session: Session, tenant: str) -> None:
    """Create the tenant row (epoch 0) unless it exists; safe against a concurrent creator."""
    _check_tenant(tenant)
    values = {"id": tenant, "acl_epoch": 0, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(Tenant).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(Tenant).values(values).on_conflict_do_nothing())
    elif session.get(Tenant, tenant) is None:  # pragma: no cover - other engines
        session.add(Tenant(**values))
        session.flush()


def bump_acl_epoch(session: Session, tenant: str) -> int:
    """Advance the tenant's epoch by one, atomically, and return the new value.

    Call it inside the transaction that makes the permission change; it raises
    ``NotFound`` for a tenant that has no row (``ensure_tenant`` first where a change may
    be the tenant's first).
    """
    _check_tenant(tenant)
    new_epoch = session.execute(
        update(Tenant)
        .where(Tenant.id == tenant)
        .values(acl_epoch=Tenant.acl_epoch + 1)
        .returning(Tenant.acl_epoch)
    ).scalar_one_or_none()
    if new_epoch is None:
        raise NotFound(f"tenant {tenant!r} does not exist")
    return new_epoch


def current_epoch(session: Session, tenant: str) -> int:
    """The tenant's epoch as committed now: one primary-key read.

    A tenant without a row reads as 0. That is safe: epochs only ever grow from 0, and a
    tenant whose epoch is still 0 has had no permission change, so it has no groups.
    """
    epoch = session.execute(
        select(Tenant.acl_epoch).where(Tenant.id == tenant)
    ).scalar_one_or_none()
    return 0 if epoch is None else epoch


def _check_tenant(tenant: str) -> None:
    if not tenant or len(tenant) > MAX_TENANT_LENGTH or tenant != tenant.strip():
        raise InputError(f"invalid tenant id {tenant!r} (1-{MAX_TENANT_LENGTH} characters)")

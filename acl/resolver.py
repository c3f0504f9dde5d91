"""Cached entitlements that can never outlive a permission change, in any process.

Every call reads the tenant's ``acl_epoch`` (one primary-key lookup) and uses a cached
set only if it was computed at that same epoch. Every permission change bumps the epoch
in its own transaction, so once a change has committed, anywhere, the next call misses
and resolves afresh; there is no TTL to wait out and no invalidation message to lose.

Order matters: the epoch is read *before* the memberships. A set cached under epoch E
therefore reflects at least everything committed up to E (perhaps more), never less; the
reverse order could store a pre-change set under the post-change epoch.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from sqlalchemy.orm import Session, sessionmaker

from core.types import Entitlements, Principal

from .entitlements import entitlements_for
from .epoch import current_epoch
from .principals import parse_user


class _Slot(NamedTuple):
    epoch: int
    entitlements: Entitlements


class EntitlementCache:
    """A bounded, thread-safe LRU of entitlements keyed on (tenant, user, acl_epoch).

    It keeps one slot per (tenant, user) holding the epoch it was computed at, so entries
    from past epochs are replaced rather than left to crowd out live ones.
    """

    def __init__(self, *, max_entries: int = 10_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._slots: OrderedDict[tuple[str, str], _Slot] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, *, tenant: str, user: str, epoch: int) -> Entitlements | None:
        """The set computed at exactly ``epoch``, else None."""
        with self._lock:
            slot = self._slots.get((tenant, user))
            if slot is None or slot.epoch != epoch:
                self.misses += 1
                return None
            self._slots.move_to_end((tenant, user))
            self.hits += 1
            return slot.entitlements

    def put(self, entitlements: Entitlements, *, user: str, epoch: int) -> None:
        """Store a set computed at ``epoch``; an older epoch never replaces a newer one."""
        key = (entitlements.tenant, user)
        with self._lock:
            slot = self._slots.get(key)
            if slot is not None and slot.epoch > epoch:
                return
            self._slots[key] = _Slot(epoch, entitlements)
            self._slots.move_to_end(key)
            while len(self._slots) > self.max_entries:
                self._slots.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()

    def __len__(self) -> int:
        return len(self._slots)


class EntitlementResolver:
    """``entitlements_for(principal)`` for the request path, behind an ``EntitlementCache``.

    Construction only stores its arguments. One resolver per process is the intent; any
    number of resolvers (or processes) over one database stay consistent because none of
    them trusts its cache past the epoch it reads.
    """

    def __init__(
        self, sessions: sessionmaker[Session], *, cache: EntitlementCache | None = None
    ) -> None:
        self._sessions = sessions
        self.cache = cache if cache is not None else EntitlementCache()

    def entitlements_for(self, principal: Principal) -> Entitlements:
        """The principal's current entitlements: 1 query when cached, 2 when not.

        It reads in a short transaction of its own, never in a caller's: a caller's
        transaction may hold an uncommitted epoch bump that a rollback later hands to a
        different change, and a set cached under it would then be served as current.
        (Code that must read inside its own transaction calls the uncached
        ``acl.entitlements_for(session, ...)``.)
        """
        with self._sessions() as session, session.begin():
            return self._resolve(session, tenant=principal.tenant, user_id=principal.id)

    def _resolve(self, session: Session, *, tenant: str, user_id: str) -> Entitlements:
        user = parse_user(user_id)
        epoch = current_epoch(session, tenant)
        cached = self.cache.get(tenant=tenant, user=user, epoch=epoch)
        if cached is not None:
            return cached
        resolved = entitlements_for(session, tenant=tenant, user_id=user)
        self.cache.put(resolved, user=user, epoch=epoch)
        return resolved

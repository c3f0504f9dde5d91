"""Checking the principal lists that sources hand us, before they become an ``Acl``.

A principal must carry a namespace (``user:``, ``group:``) or be ``everyone``: a bare
name would never match anyone's entitlements, so accepting it would quietly lock a
document away, or a typo in a deny list would quietly let people in.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import AclInvalid
from core.types import EVERYONE, Acl, normalize_principal

_NAMESPACES = ("user:", "group:")


def principals(values: object, *, field: str) -> frozenset[str]:
    """Normalised principal ids from a JSON-ish list; ``AclInvalid`` names the bad entry's index."""
    if not isinstance(values, (list, tuple)):
        raise AclInvalid(f"{field!r} must be a list of principal ids")
    out: set[str] = set()
    for index, value in enumerate(values):
        if not isinstance(value, str) or not _is_principal(value):
            raise AclInvalid(
                f"{field}[{index}] is not a principal id (want 'user:<email>', "
                f"'group:<name>' or '{EVERYONE}')"
            )
        out.add(normalize_principal(value))
    return frozenset(out)


def acl_of(allow: Iterable[str], deny: Iterable[str] = ()) -> Acl:
    return Acl(
        allow=principals(list(allow), field="allow"), deny=principals(list(deny), field="deny")
    )


def _is_principal(value: str) -> bool:
    value = value.strip()
    if value == EVERYONE:
        return True
    lowered = value.lower()
    return any(lowered.startswith(ns) and len(value) > len(ns) for ns in _NAMESPACES)

"""Principal ids: the one place that says what a well-formed id looks like.

Every id that reaches a membership row, a document ACL or an entitlement set passes
through ``parse_principal`` first, so two spellings of one principal can never sit side by
side (a deny entry spelled ``group:Contractors`` must not miss the group
``group:contractors``). The forms, from DESIGN.md "Permissions":

    user:<email>                  email lower-cased; a bare email means the same
    group:<name>                  managed through the API; the name is lower-cased
    group:<source>:<external-id>  synced from a source; kept exactly as the source spells it
    everyone                      every user of the tenant

Anything else is refused with ``AclInvalid`` and a message naming the accepted forms.
"""

from __future__ import annotations

import re
from typing import Literal

from core.errors import AclInvalid
from core.types import EVERYONE

PrincipalKind = Literal["user", "group", "synced_group", "everyone"]

MAX_PRINCIPAL_LENGTH = 320
"""The width of the principal columns (``groups.id``, ``memberships.member_id``)."""

_FORMS = "user:<email>, group:<name>, group:<source>:<id> or everyone"
_EMAIL = re.compile(r"[^@\s:]+@[^@\s:]+")
_GROUP_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_principal(raw: str) -> str:
    """The canonical id of ``raw``, or ``AclInvalid`` saying what is wrong with it."""
    if not isinstance(raw, str):
        raise AclInvalid(f"a principal id must be a string, not {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise AclInvalid(f"empty principal id; expected {_FORMS}")
    if _CONTROL.search(text):
        raise AclInvalid(f"principal id {text!r} contains control characters")
    if len(text) > MAX_PRINCIPAL_LENGTH:
        raise AclInvalid(f"principal id longer than {MAX_PRINCIPAL_LENGTH} characters")
    lowered = text.lower()
    if lowered == EVERYONE:
        return EVERYONE
    if lowered.startswith("user:"):
        return _user(text[5:], raw=text)
    if lowered.startswith("group:"):
        return _group(text[6:], raw=text)
    if "@" in text and ":" not in text:
        return _user(text, raw=text)
    raise AclInvalid(f"unknown principal {text!r}; expected {_FORMS}")


def parse_user(raw: str) -> str:
    """``user:<email>`` from a user id or a bare email; groups and ``everyone`` are refused."""
    principal = parse_principal(raw)
    if principal_kind(principal) != "user":
        raise AclInvalid(f"{principal!r} is not a user; expected user:<email> or an email")
    return principal


def group_principal(name_or_id: str) -> str:
    """``group:<name>`` from a route's bare name (``eng``) or a full group id."""
    text = name_or_id.strip() if isinstance(name_or_id, str) else name_or_id
    if isinstance(text, str) and not text.lower().startswith("group:"):
        text = f"group:{text}"
    principal = parse_principal(text)
    if principal_kind(principal) not in ("group", "synced_group"):
        raise AclInvalid(f"{name_or_id!r} is not a group id; expected group:<name>")
    return principal


def principal_kind(principal: str) -> PrincipalKind:
    """The kind of an id that ``parse_principal`` returned."""
    if principal == EVERYONE:
        return "everyone"
    if principal.startswith("user:"):
        return "user"
    if principal.startswith("group:") and ":" in principal[6:]:
        return "synced_group"
    if principal.startswith("group:"):
        return "group"
    raise AclInvalid(f"unknown principal {principal!r}; expected {_FORMS}")


def _user(email: str, *, raw: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.fullmatch(email):
        raise AclInvalid(f"{raw!r} is not a user id; expected user:<email>, e.g. user:ann@x.com")
    return f"user:{email}"


def _group(rest: str, *, raw: str) -> str:
    rest = rest.strip()
    source, sep, external_id = rest.partition(":")
    if not sep:
        name = rest.lower()
        if not _GROUP_NAME.fullmatch(name):
            raise AclInvalid(
                f"{raw!r} is not a group id; a group name is 1-128 of a-z, 0-9, '.', '_', '-' "
                "and starts with a letter or digit, e.g. group:eng"
            )
        return f"group:{name}"
    external_id = external_id.strip()
    if not _SOURCE.fullmatch(source) or not external_id:
        raise AclInvalid(
            f"{raw!r} is not a synced group id; expected group:<source>:<external-id>"
        )
    return f"group:{source}:{external_id}"

"""API keys and callers: HMAC-SHA256 digests under the server secret, scopes, acting user.

A key is ``ck_`` + 32 random url-safe bytes. Only its digest is stored, so a database
leak yields no usable key; checking is one indexed lookup. Any other bearer token, when
``CLEARANCE_OIDC_ISSUER`` is set, is a user's own access token (api/oidc.py): that caller
acts as its user only (scope ``query``), plus ``admin`` when the user is in
``CLEARANCE_ADMIN_GROUP``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import DEFAULT_TENANT, Settings, user_principal
from core.errors import AuthError, Forbidden, OnBehalfOfNotAllowed, OnBehalfOfRequired
from core.models import ApiKey

if TYPE_CHECKING:
    from .oidc import OidcVerifier

SCOPES = frozenset({"query", "act_as", "ingest", "admin"})
KEY_PREFIX = "ck_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_digest(key: str, *, settings: Settings) -> str:
    secret = settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Caller:
    """Who is calling (a key), of which tenant, allowed to do what."""

    name: str
    tenant: str
    scopes: frozenset[str]
    key_id: str | None = None
    user_id: str | None = None
    source_ids: frozenset[str] = frozenset()
    signed_in: bool = False
    """A user's own token (OIDC), not a key: it always acts as ``user_id``, never for
    anyone else, whatever its scopes."""

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    @property
    def label(self) -> str:
        """How the caller appears in audit rows: its key id (never the key)."""
        return f"key:{self.key_id}" if self.key_id else self.name


def authenticate(session: Session, authorization: str | None, *, settings: Settings,
                 oidc: OidcVerifier | None = None) -> Caller:
    """The caller behind an ``Authorization: Bearer <key or token>`` header, or AuthError
    (401; a refused user token raises a ``TokenError`` naming why)."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError("Send an API key as 'Authorization: Bearer ck_…'.")
    key = authorization[7:].strip()
    admin_key = settings.admin_api_key
    if admin_key is not None and hmac.compare_digest(key.encode(),
                                                     admin_key.get_secret_value().encode()):
        return Caller(name="bootstrap-admin", tenant=DEFAULT_TENANT,
                      scopes=frozenset({"admin"}))
    if oidc is not None and not key.startswith(KEY_PREFIX):
        user = oidc.verify(key)
        return Caller(name=user.user_id, tenant=user.tenant, user_id=user.user_id,
                      scopes=frozenset({"query", "admin"} if user.is_admin else {"query"}),
                      signed_in=True)
    row = session.scalars(
        select(ApiKey).where(ApiKey.digest == key_digest(key, settings=settings))
    ).one_or_none()
    now = datetime.now(UTC)
    if row is None or row.revoked_at is not None or (
        row.expires_at is not None and _aware(row.expires_at) <= now
    ):
        raise AuthError("The API key is unknown, revoked or expired.")
    return Caller(name=row.name, tenant=row.tenant_id, scopes=frozenset(row.scopes),
                  key_id=row.id, user_id=row.user_id, source_ids=frozenset(row.source_ids))


def acting_user(caller: Caller, on_behalf_of: str | None) -> str:
    """The user whose entitlements a search or answer runs with (API.md scope table)."""
    if caller.signed_in and caller.user_id:
        if on_behalf_of:
            raise OnBehalfOfNotAllowed(
                "A signed-in user always acts as themselves; drop the X-On-Behalf-Of header.")
        return caller.user_id
    if caller.is_admin or "act_as" in caller.scopes:
        if not on_behalf_of or not on_behalf_of.strip():
            raise OnBehalfOfRequired(
                "This key acts for other users: name one in the X-On-Behalf-Of header.")
        return user_principal(on_behalf_of)
    if "query" in caller.scopes:
        if on_behalf_of:
            raise OnBehalfOfNotAllowed(
                "A query key always acts as its own user; drop the X-On-Behalf-Of header.")
        if not caller.user_id:
            raise Forbidden("This query key has no user.")
        return user_principal(caller.user_id)
    raise Forbidden("This key may not search or ask (needs scope query, act_as or admin).")


def require_scope(caller: Caller, *scopes: str) -> None:
    """403 unless the caller holds one of ``scopes`` (admin holds them all)."""
    if caller.is_admin or caller.scopes & set(scopes):
        return
    raise Forbidden(f"This key lacks the scope for this call (needs one of: {', '.join(scopes)}).")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

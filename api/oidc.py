"""Users' own bearer tokens: OpenID Connect access tokens checked against the issuer's JWKS.

``OidcVerifier.verify(token)`` answers a ``TokenUser`` (who, which tenant, admin or not)
or raises a ``TokenError`` (401) with a stable code. The checks, in order:

1. shape: a compact JWS (three base64url parts), at most ``MAX_TOKEN_CHARS``;
2. ``alg`` in ``CLEARANCE_OIDC_ALGORITHMS`` (asymmetric only, so ``none`` and ``HS*`` never
   reach a key: no key confusion) — ``token_algorithm_refused``;
3. ``iss`` is the configured issuer, read before any key lookup so that tokens of other
   issuers cannot make us refetch keys — ``token_issuer_invalid``;
4. ``kid`` names a signing key of the issuer's JWKS; an unknown kid refetches the JWKS at
   most once per ``CLEARANCE_OIDC_JWKS_MIN_REFETCH_S`` (key rotation) —
   ``token_key_unknown``; the key's type (and its own ``alg``, when it has one) must fit
   the token's ``alg``;
5. signature (``token_invalid``), then ``exp`` (required; ``token_expired``), ``nbf``,
   ``iat`` with ``CLEARANCE_OIDC_LEEWAY_S``, ``iss`` again, ``aud`` contains
   ``CLEARANCE_OIDC_AUDIENCE`` (``token_audience_invalid``);
6. the user claim (``CLEARANCE_OIDC_USER_CLAIM``, an email; ``email_verified: false`` is
   refused) and the tenant claim (``CLEARANCE_OIDC_TENANT_CLAIM``) —
   ``token_claim_missing`` / ``token_claim_invalid``.

Admin rights are never read from the token: a user is an admin of their tenant iff
``CLEARANCE_ADMIN_GROUP`` is among their entitlements, resolved from SQL (nested groups
included, cached on the tenant's ``acl_epoch``), so removing someone from the group takes
effect on their next request, whatever their token says.

The issuer's discovery document and JWKS are fetched lazily (constructing a verifier does
no I/O), cached ``CLEARANCE_OIDC_JWKS_TTL_S``, and kept when a refresh fails; with nothing
cached and the issuer unreachable, the answer is 503 ``identity_provider_unavailable``.
Messages never repeat the token, its claims or its key id.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import httpx
import jwt
from jwt.api_jwk import PyJWK

from acl import group_principal, parse_user
from core import DEFAULT_TENANT, Entitlements, Principal, Settings
from core.errors import (
    AclInvalid,
    IdentityProviderUnavailable,
    TokenAlgorithmRefused,
    TokenAudienceInvalid,
    TokenClaimInvalid,
    TokenClaimMissing,
    TokenExpired,
    TokenInvalid,
    TokenIssuerInvalid,
    TokenKeyUnknown,
)

log = logging.getLogger("clearance.api.oidc")

MAX_TOKEN_CHARS = 16_384
MAX_TENANT_CHARS = 64
DISCOVERY_PATH = "/.well-known/openid-configuration"
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
T = TypeVar("T")


@dataclass(frozen=True)
class TokenUser:
    """Who a valid token speaks for."""

    user_id: str
    """``user:<email>``, lower-cased."""
    tenant: str
    is_admin: bool
    expires_at: datetime


class OidcVerifier:
    """Checks access tokens of ``settings.oidc_issuer``; one per app (``AppState``).

    ``entitlements`` resolves a user's principals from SQL (``EntitlementResolver``);
    ``http`` is the client used for discovery and JWKS (tests hand in one on an
    ``httpx.MockTransport``). Thread-safe: sync routes run on a thread pool.
    """

    def __init__(self, settings: Settings, *,
                 entitlements: Callable[[Principal], Entitlements],
                 http: httpx.Client | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not settings.oidc_issuer or not settings.oidc_audience:
            raise ValueError("OidcVerifier needs CLEARANCE_OIDC_ISSUER and _AUDIENCE")
        self.settings = settings
        self.issuer: str = settings.oidc_issuer
        self.audience: str = settings.oidc_audience
        self.algorithms = tuple(settings.oidc_algorithms)
        self.admin_group = group_principal(settings.admin_group)
        self._entitlements = entitlements
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=settings.oidc_http_timeout_s,
                                          follow_redirects=False)
        self._clock = clock
        self._lock = threading.Lock()
        self._discovery: _Cached[dict[str, Any]] | None = None
        self._keys: _Cached[dict[str | None, dict[str, Any]]] | None = None
        self._last_jwks_fetch = float("-inf")
        self._last_discovery_fetch = float("-inf")

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # -- tokens -----------------------------------------------------------------------

    def verify(self, token: str) -> TokenUser:
        """The user behind ``token``, or a ``TokenError`` saying why not."""
        header, unverified = _peek(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise TokenAlgorithmRefused(
                "The token's signature algorithm is not accepted; this API accepts "
                f"{', '.join(self.algorithms)} (CLEARANCE_OIDC_ALGORITHMS).")
        if unverified.get("iss") != self.issuer:
            raise TokenIssuerInvalid("The token was not issued by this API's identity "
                                     "provider (CLEARANCE_OIDC_ISSUER).")
        key = self._key_for(header.get("kid"), alg)
        claims = self._decode(token, key=key, alg=alg)
        user, tenant = self._user_of(claims), self._tenant_of(claims)
        return TokenUser(user_id=user, tenant=tenant, is_admin=self._is_admin(user, tenant),
                         expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC))

    def _decode(self, token: str, *, key: Any, alg: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=[alg], audience=self.audience, issuer=self.issuer,
                leeway=self.settings.oidc_leeway_s,
                options={"require": ["exp", "iss", "aud"], "verify_signature": True})
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("The token has expired; sign in again.") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenInvalid("The token is not valid yet (nbf or iat in the future; "
                               "check the clocks).") from exc
        except jwt.InvalidIssuerError as exc:
            raise TokenIssuerInvalid("The token was not issued by this API's identity "
                                     "provider (CLEARANCE_OIDC_ISSUER).") from exc
        except jwt.InvalidAudienceError as exc:
            raise TokenAudienceInvalid("The token is not meant for this API "
                                       "(CLEARANCE_OIDC_AUDIENCE).") from exc
        except jwt.MissingRequiredClaimError as exc:
            if exc.claim == "aud":
                raise TokenAudienceInvalid("The token names no audience; this API needs "
                                           "its own (CLEARANCE_OIDC_AUDIENCE).") from exc
            raise TokenClaimMissing(f"The token lacks the required '{exc.claim}' "
                                    "claim.") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenInvalid("The token's signature does not verify.") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise TokenAlgorithmRefused("The token's signature algorithm is not "
                                        "accepted.") from exc
        except jwt.PyJWTError as exc:
            raise TokenInvalid("The token is malformed or its claims are invalid.") from exc
        return claims

    def _user_of(self, claims: Mapping[str, Any]) -> str:
        claim = self.settings.oidc_user_claim
        value = claims.get(claim)
        if not isinstance(value, str) or not value.strip():
            raise TokenClaimMissing(f"The token has no '{claim}' claim naming the user "
                                    "(CLEARANCE_OIDC_USER_CLAIM).")
        if claims.get("email_verified") is False and claim == "email":
            raise TokenClaimInvalid("The token's email address is not verified by the "
                                    "identity provider.")
        try:
            return parse_user(value)
        except AclInvalid as exc:
            raise TokenClaimInvalid(f"The token's '{claim}' claim is not an email address "
                                    "(CLEARANCE_OIDC_USER_CLAIM).") from exc

    def _tenant_of(self, claims: Mapping[str, Any]) -> str:
        claim = self.settings.oidc_tenant_claim
        if claim is None:
            return DEFAULT_TENANT
        value = claims.get(claim)
        if value is None:
            raise TokenClaimMissing(f"The token has no '{claim}' claim naming the tenant "
                                    "(CLEARANCE_OIDC_TENANT_CLAIM).")
        if (not isinstance(value, str) or not value or value != value.strip()
                or len(value) > MAX_TENANT_CHARS):
            raise TokenClaimInvalid(f"The token's '{claim}' claim is not a tenant id "
                                    f"(1-{MAX_TENANT_CHARS} characters).")
        return value

    def _is_admin(self, user_id: str, tenant: str) -> bool:
        entitlements = self._entitlements(Principal(id=user_id, tenant=tenant))
        return self.admin_group in entitlements.principals

    # -- keys -------------------------------------------------------------------------

    def _key_for(self, kid: object, alg: str) -> Any:
        if kid is not None and not isinstance(kid, str):
            raise TokenInvalid("The token's key id is malformed.")
        jwk = self._jwk(kid)
        if jwk is None:
            raise TokenKeyUnknown("The token was signed with a key the identity provider "
                                  "does not publish (unknown key id).")
        if jwk.get("alg") not in (None, alg) or jwk.get("kty") != _KEY_TYPES.get(alg[:2]):
            raise TokenAlgorithmRefused("The token's algorithm does not fit its key.")
        try:
            return PyJWK(dict(jwk), algorithm=alg).key
        except jwt.PyJWTError as exc:
            raise TokenAlgorithmRefused("The token's algorithm does not fit its key.") from exc

    def _jwk(self, kid: str | None) -> dict[str, Any] | None:
        with self._lock:
            keys = self._keys
            now = self._clock()
            if keys is None or keys.age(now) > self.settings.oidc_jwks_ttl_s:
                keys = self._refresh_keys(now, stale=keys)
            found = _pick(keys.value, kid)
            if found is None and now - self._last_jwks_fetch >= (
                    self.settings.oidc_jwks_min_refetch_s):
                keys = self._refresh_keys(now, stale=keys)  # rotated keys: look once more
                found = _pick(keys.value, kid)
            return found

    def _refresh_keys(self, now: float, *,
                      stale: _Cached[dict[str | None, dict[str, Any]]] | None,
                      ) -> _Cached[dict[str | None, dict[str, Any]]]:
        if now - self._last_jwks_fetch < self.settings.oidc_jwks_min_refetch_s:
            if stale is not None:
                return stale
            raise IdentityProviderUnavailable(  # the last try failed moments ago
                "The identity provider's signing keys (JWKS) could not be fetched; "
                "check CLEARANCE_OIDC_ISSUER / CLEARANCE_OIDC_JWKS_URL.")
        self._last_jwks_fetch = now
        try:
            url = self.settings.oidc_jwks_url or self._discovery_locked(now)["jwks_uri"]
            document = self._get_json(url)
            keys = _signing_keys(document)
        except (IdentityProviderUnavailable, KeyError, ValueError) as exc:
            if stale is not None:
                log.warning("JWKS refresh failed; keeping the cached keys",
                            extra={"error": type(exc).__name__})
                return stale
            if isinstance(exc, IdentityProviderUnavailable):
                raise
            raise IdentityProviderUnavailable(
                "The identity provider's signing keys (JWKS) are unusable; check "
                "CLEARANCE_OIDC_ISSUER / CLEARANCE_OIDC_JWKS_URL.") from exc
        self._keys = _Cached(keys, now)
        return self._keys

    # -- discovery --------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        """The issuer's ``/.well-known/openid-configuration`` (cached)."""
        with self._lock:
            return self._discovery_locked(self._clock())

    def _discovery_locked(self, now: float) -> dict[str, Any]:
        cached = self._discovery
        if cached is not None and cached.age(now) <= self.settings.oidc_jwks_ttl_s:
            return cached.value
        if now - self._last_discovery_fetch < self.settings.oidc_jwks_min_refetch_s:
            if cached is not None:
                return cached.value
            raise IdentityProviderUnavailable(  # the last try failed moments ago
                "The identity provider's discovery document could not be fetched; check "
                "CLEARANCE_OIDC_ISSUER.")
        self._last_discovery_fetch = now
        try:
            document = self._get_json(self.issuer.rstrip("/") + DISCOVERY_PATH)
            if document.get("issuer") != self.issuer:
                raise ValueError("the discovery document names another issuer")
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not (
                    jwks_uri.startswith("https://") or self.issuer.startswith("http://")):
                raise ValueError("the discovery document has no https jwks_uri")
        except (IdentityProviderUnavailable, ValueError) as exc:
            if cached is not None:
                log.warning("OIDC discovery refresh failed; keeping the cached document",
                            extra={"error": type(exc).__name__})
                return cached.value
            if isinstance(exc, IdentityProviderUnavailable):
                raise
            raise IdentityProviderUnavailable(
                f"The identity provider's discovery document is unusable ({exc}); check "
                "CLEARANCE_OIDC_ISSUER.") from exc
        self._discovery = _Cached(document, now)
        return document

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, json.JSONDecodeError) as exc:
            raise IdentityProviderUnavailable(
                "The identity provider could not be reached or answered badly; check "
                "CLEARANCE_OIDC_ISSUER.") from exc
        if not isinstance(document, dict):
            raise IdentityProviderUnavailable("The identity provider answered badly "
                                              "(not a JSON object).")
        return document


@dataclass(frozen=True)
class _Cached(Generic[T]):
    value: T
    fetched_at: float

    def age(self, now: float) -> float:
        return now - self.fetched_at


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and the (unverified) claims, only to choose a key and refuse early."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise TokenInvalid("The bearer token is not a well-formed JWT.")
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise TokenInvalid("The bearer token is not a well-formed JWT.") from exc
    if not isinstance(claims, dict):
        raise TokenInvalid("The bearer token is not a well-formed JWT.")
    return header, claims


def _signing_keys(document: Mapping[str, Any]) -> dict[str | None, dict[str, Any]]:
    """The JWKS's public signing keys by key id (``None`` for one without)."""
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise ValueError("the JWKS has no 'keys' list")
    found: dict[str | None, dict[str, Any]] = {}
    for key in keys:
        if not isinstance(key, dict) or key.get("use", "sig") != "sig":
            continue
        if key.get("kty") not in ("RSA", "EC", "OKP") or "d" in key:
            continue  # symmetric or private material: never a verification key
        kid = key.get("kid")
        if kid is None or isinstance(kid, str):
            found[kid] = key
    return found


def _pick(keys: Mapping[str | None, dict[str, Any]], kid: str | None) -> dict[str, Any] | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None  # no kid: only if unambiguous

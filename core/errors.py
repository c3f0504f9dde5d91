"""The error tree. Every error a caller can see has a stable ``code``.

    ClearanceError                      code, message, http_status
    ├── InputError (422)                bad input a caller can fix
    │   ├── DocumentError               a document that cannot be ingested
    │   │   ├── DocumentUnparseable     document_unparseable
    │   │   ├── DocumentEmpty           document_empty
    │   │   ├── DocumentEncodingError   document_encoding_invalid
    │   │   ├── DocumentTooLarge        payload_too_large (413)
    │   │   └── UnsupportedMimeType     unsupported_mime_type (415)
    │   ├── AclInvalid                  acl_invalid
    │   ├── UnknownSource               unknown_source
    │   └── GroupCycle                  group_cycle
    ├── RequestError (400)              bad_request
    │   ├── MalformedJson               malformed_json
    │   ├── OnBehalfOfRequired          on_behalf_of_required
    │   └── OnBehalfOfNotAllowed        on_behalf_of_not_allowed
    ├── InvalidRequest (422)            invalid_request — a well-formed body that breaks the schema
    ├── UnsupportedMediaType (415)      unsupported_media_type — wrong Content-Type
    ├── NotFound (404)                  not_found — also for things the caller may not see
    ├── MethodNotAllowed (405)          method_not_allowed
    ├── AuthError (401)                 unauthenticated
    │   └── TokenError                  a user's bearer token (OIDC) refused; never echoes it
    │       ├── TokenInvalid            token_invalid — malformed, bad signature, not yet valid
    │       ├── TokenExpired            token_expired — sign in again
    │       ├── TokenAlgorithmRefused   token_algorithm_refused — 'none', HS*, not allow-listed
    │       ├── TokenKeyUnknown         token_key_unknown — key id not in the issuer's JWKS
    │       ├── TokenIssuerInvalid      token_issuer_invalid
    │       ├── TokenAudienceInvalid    token_audience_invalid
    │       ├── TokenClaimMissing       token_claim_missing — no user (or tenant) claim
    │       └── TokenClaimInvalid       token_claim_invalid — e.g. not an email, unverified
    ├── Forbidden (403)                 forbidden
    ├── Conflict (409)                  conflict
    ├── WaitTimeout (504)               wait_timeout — the work goes on
    ├── StoreLocked (409)               store_locked — the Edge shard is held by another process
    ├── StoreUnavailable (503)          store_unavailable
    ├── IdentityProviderUnavailable (503) identity_provider_unavailable — OIDC issuer unreachable
    ├── ConfigurationError (500)        configuration_invalid — a setting names something unusable
    ├── TokenBudgetExceeded (429)       token_budget_exceeded — a daily model token budget is spent
    └── ModelError (502)                model_error — a model provider failed; answers fall back
        ├── ModelTimeout (504)          model_timeout — no reply within the timeout or deadline
        ├── ModelRateLimited (429)      model_rate_limited — carries retry_after_s when known
        ├── ModelUnavailable (503)      model_unavailable — 5xx, connection refused, circuit open
        └── ModelOutputInvalid (502)    model_output_invalid — output broke the answer schema

``CODES`` lists every code once; ``api/`` maps them to responses in one place and workers
store the same code on a failed document.
"""

from __future__ import annotations

from typing import ClassVar


class ClearanceError(Exception):
    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InputError(ClearanceError):
    code = "invalid_input"
    http_status = 422


class DocumentError(InputError):
    code = "document_invalid"


class DocumentUnparseable(DocumentError):
    code = "document_unparseable"


class DocumentEmpty(DocumentError):
    code = "document_empty"


class DocumentEncodingError(DocumentError):
    code = "document_encoding_invalid"


class DocumentTooLarge(DocumentError):
    code = "payload_too_large"
    http_status = 413


class UnsupportedMimeType(DocumentError):
    code = "unsupported_mime_type"
    http_status = 415


class AclInvalid(InputError):
    code = "acl_invalid"


class UnknownSource(InputError):
    code = "unknown_source"


class GroupCycle(InputError):
    code = "group_cycle"


class RequestError(ClearanceError):
    code = "bad_request"
    http_status = 400


class MalformedJson(RequestError):
    code = "malformed_json"


class OnBehalfOfRequired(RequestError):
    code = "on_behalf_of_required"


class OnBehalfOfNotAllowed(RequestError):
    code = "on_behalf_of_not_allowed"


class InvalidRequest(ClearanceError):
    code = "invalid_request"
    http_status = 422


class UnsupportedMediaType(ClearanceError):
    code = "unsupported_media_type"
    http_status = 415


class MethodNotAllowed(ClearanceError):
    code = "method_not_allowed"
    http_status = 405


class WaitTimeout(ClearanceError):
    code = "wait_timeout"
    http_status = 504


class NotFound(ClearanceError):
    code = "not_found"
    http_status = 404


class AuthError(ClearanceError):
    code = "unauthenticated"
    http_status = 401


class TokenError(AuthError):
    """A user's bearer token (OIDC access token) was refused (api/oidc.py). Messages say
    why in words a user can act on and never repeat the token or its claims."""

    code = "token_invalid"


class TokenInvalid(TokenError):
    code = "token_invalid"


class TokenExpired(TokenError):
    code = "token_expired"


class TokenAlgorithmRefused(TokenError):
    code = "token_algorithm_refused"


class TokenKeyUnknown(TokenError):
    code = "token_key_unknown"


class TokenIssuerInvalid(TokenError):
    code = "token_issuer_invalid"


class TokenAudienceInvalid(TokenError):
    code = "token_audience_invalid"


class TokenClaimMissing(TokenError):
    code = "token_claim_missing"


class TokenClaimInvalid(TokenError):
    code = "token_claim_invalid"


class Forbidden(ClearanceError):
    code = "forbidden"
    http_status = 403


class Conflict(ClearanceError):
    code = "conflict"
    http_status = 409


class StoreLocked(ClearanceError):
    code = "store_locked"
    http_status = 409


class StoreUnavailable(ClearanceError):
    code = "store_unavailable"
    http_status = 503


class IdentityProviderUnavailable(ClearanceError):
    """The OIDC issuer's discovery document or JWKS could not be fetched (and no cached
    copy is usable): the token could not be checked, which is not the user's fault."""

    code = "identity_provider_unavailable"
    http_status = 503


class ConfigurationError(ClearanceError):
    """A setting names something that cannot be used (a model directory that does not
    exist, or holds no model). Raised at start-up by the factories, never per request."""

    code = "configuration_invalid"


class TokenBudgetExceeded(ClearanceError):
    """The asking user's or the tenant's daily budget of model tokens is spent
    (``CLEARANCE_USER_DAILY_TOKEN_BUDGET``, ``CLEARANCE_TENANT_DAILY_TOKEN_BUDGET``).
    ``budgets`` names which (``user``, ``tenant`` or both); ``retry_after_s`` is the time
    to the next UTC midnight, when both reset. Not a ``ModelError``: no fallback answers
    it, the question is refused."""

    code = "token_budget_exceeded"
    http_status = 429

    def __init__(self, message: str, *, budgets: tuple[str, ...],
                 retry_after_s: float) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.budgets = budgets


class ModelError(ClearanceError):
    """A model provider failed. Adapters raise these (translated from SDK errors at their
    edge); the answer gateway turns every one of them into the extractive fallback, so a
    caller of /v1/answer does not see them."""

    code = "model_error"
    http_status = 502


class ModelTimeout(ModelError):
    code = "model_timeout"
    http_status = 504


class ModelRateLimited(ModelError):
    code = "model_rate_limited"
    http_status = 429


class ModelUnavailable(ModelError):
    code = "model_unavailable"
    http_status = 503


class ModelOutputInvalid(ModelError):
    code = "model_output_invalid"

    def __init__(self, message: str, *, violations: int = 1) -> None:
        super().__init__(message)
        self.violations = violations
        """How many replies broke the schema (the first and the corrective retry)."""


def _all_subclasses(cls: type[ClearanceError]) -> list[type[ClearanceError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_subclasses(sub))
    return out


CODES: dict[str, type[ClearanceError]] = {c.code: c for c in _all_subclasses(ClearanceError)}

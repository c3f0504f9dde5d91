"""Settings, SQL models and sessions, the error tree and the shared domain types."""

from .errors import CODES, ClearanceError
from .settings import Settings
from .types import (
    DEFAULT_TENANT,
    EVERYONE,
    Acl,
    Chunk,
    Citation,
    Element,
    Entitlements,
    Hit,
    Principal,
    RawDocument,
    chunk_id,
    content_hash,
    document_id,
    normalize_principal,
    user_principal,
)

__all__ = [
    "CODES",
    "DEFAULT_TENANT",
    "EVERYONE",
    "Acl",
    "Chunk",
    "Citation",
    "ClearanceError",
    "Element",
    "Entitlements",
    "Hit",
    "Principal",
    "RawDocument",
    "Settings",
    "chunk_id",
    "content_hash",
    "document_id",
    "normalize_principal",
    "user_principal",
]

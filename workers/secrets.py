"""Connector secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from
``settings.secret_key`` with HKDF-SHA256, so the SQL row never holds a secret in clear.

A source's config keys that look secret (``api_token``, ``password``, ``client_secret``,
``token``...) are split off by ``split_secrets`` before the row is written, encrypted into
``Source.secrets_encrypted``, and merged back only inside the worker that builds the
connector. Rotating ``CLEARANCE_SECRET_KEY`` makes old secrets unreadable: re-enter them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from core import Settings
from core.errors import InputError

SECRET_WORDS = ("secret", "token", "password", "api_key", "apikey", "private_key",
                "credential")
_INFO = b"clearance connector secrets v1"


def is_secret_key(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def split_secrets(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(plain config, secrets)``: top-level keys whose names look secret go to secrets."""
    plain = {k: v for k, v in config.items() if not is_secret_key(k)}
    secrets = {k: v for k, v in config.items() if is_secret_key(k)}
    return plain, secrets


def _fernet(settings: Settings) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        settings.secret_key.get_secret_value().encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secrets(settings: Settings, secrets: Mapping[str, Any]) -> str | None:
    if not secrets:
        return None
    return _fernet(settings).encrypt(json.dumps(dict(secrets)).encode()).decode()


def decrypt_secrets(settings: Settings, token: str) -> dict[str, Any]:
    try:
        data = json.loads(_fernet(settings).decrypt(token.encode()))
    except InvalidToken:
        raise InputError("the source's secrets cannot be decrypted with CLEARANCE_SECRET_KEY "
                         "(was it rotated?); set them again with PATCH /v1/sources/{id}") from None
    if not isinstance(data, dict):
        raise InputError("the source's stored secrets are malformed; set them again")
    return data

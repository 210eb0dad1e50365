"""Symmetric encryption for secrets at rest (channel credentials)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

ENV_REFERENCE_PREFIX = "env:"


class SecretUnavailable(Exception):
    """A credential references an environment variable that is not set, or cannot be decrypted."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[bytes, ...]) -> MultiFernet:
    # The first key encrypts; all keys decrypt, so keys can be rotated without a data migration.
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_json(value: Any) -> str:
    return _current().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> Any:
    try:
        return json.loads(_plaintext(token, tuple(settings.FIELD_ENCRYPTION_KEYS)))
    except InvalidToken as exc:
        raise SecretUnavailable("stored credentials cannot be decrypted with FIELD_ENCRYPTION_KEY") from exc


@lru_cache(maxsize=1024)
def _plaintext(token: str, keys: tuple[bytes, ...]) -> bytes:
    """A token's plaintext, kept per token and key set.

    Every row that carries an encrypted field is decrypted as it is loaded (an HMAC check and AES, about
    0.1 ms), whether or not the secret is used: an inbox page of 50 conversations loads 50 channels.
    A token is immutable and unique to one encryption, so its plaintext can be kept; the JSON is parsed
    again on each call so no caller shares a mutable dict. Failures are not cached.
    """
    return _fernet(keys).decrypt(token.encode())


def resolve_secret(value: str) -> str:
    """``env:NAME`` values are read from the environment at use time; anything else is the secret."""
    if not value.startswith(ENV_REFERENCE_PREFIX):
        return value
    name = value[len(ENV_REFERENCE_PREFIX) :]
    resolved = os.environ.get(name)
    if not resolved:
        raise SecretUnavailable(f"environment variable {name} is not set")
    return resolved


def mask_secret(value: str) -> str:
    """What the UI may show of a secret: env references by name, literals by their last 4 characters."""
    if value.startswith(ENV_REFERENCE_PREFIX):
        return value
    if len(value) < 12:
        return "••••••"
    return "••••••" + value[-4:]

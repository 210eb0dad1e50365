"""Keys of erased people that must keep failing after their rows are gone.

A web chat visitor's browser keeps its signed visitor token for months; after erasure that token must
not bring the erased visitor id back. Only a keyed digest of each key is kept, so the list of revoked
keys names nobody.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.crypto import salted_hmac

from profiles.models import RevokedKey

WEBCHAT_VISITOR = "webchat"
_SALT = "profiles.revocation"


def key_digest(kind: str, value: str) -> str:
    return salted_hmac(_SALT, f"{kind}:{value}", algorithm="sha256").hexdigest()


def do_revoke_keys(*, kind: str, values: Iterable[str]) -> int:
    rows = [RevokedKey(kind=kind, digest=key_digest(kind, value)) for value in set(values) if value]
    return len(RevokedKey.objects.bulk_create(rows, ignore_conflicts=True))


def is_revoked(*, kind: str, value: str) -> bool:
    return RevokedKey.objects.filter(kind=kind, digest=key_digest(kind, value)).exists()

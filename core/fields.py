from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from core.crypto import decrypt_json, encrypt_json

if TYPE_CHECKING:
    # Typed as holding any JSON value, whatever the text column underneath.
    _Base = models.Field[Any, Any]
else:
    _Base = models.TextField


class EncryptedJSONField(_Base):
    """A JSON value stored as a Fernet token: the database and its backups never see the plaintext."""

    description = "JSON encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return decrypt_json(value)

    def to_python(self, value: Any) -> Any:
        return value if value is not None else {}

    def get_prep_value(self, value: Any) -> str:
        return encrypt_json(value if value is not None else {})

    def value_to_string(self, obj: Any) -> str:
        # Dumps (dumpdata, exports) carry the ciphertext, never the secret.
        return self.get_prep_value(self.value_from_object(obj))

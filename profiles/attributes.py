"""Customer attributes: the standard columns and the custom ones admins define with a type."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from profiles.models import AttributeDefinition, AttributeType

STANDARD_FIELDS = ("name", "locale", "timezone", "company", "location")
_MAX_LENGTH = {"name": 200, "locale": 8, "timezone": 64, "company": 200, "location": 200}
_TRUE = {"true", "yes", "1", "tak", "да", "y"}
_FALSE = {"false", "no", "0", "nie", "нет", "n"}


class AttributeValueError(ValueError):
    """A value that does not fit its attribute's type; the message names the attribute."""


def coerce(definition: AttributeDefinition, value: Any) -> Any:
    """The value in the JSON form stored for this attribute type; None clears it."""
    if value is None or value == "":
        return None
    kind = definition.type
    try:
        if kind == AttributeType.NUMBER:
            number = (
                float(str(value).replace(",", ".").replace(" ", ""))
                if isinstance(value, str)
                else float(value)
            )
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError
            return int(number) if number.is_integer() else number
        if kind == AttributeType.DATE:
            return date.fromisoformat(str(value)[:10]).isoformat()
        if kind == AttributeType.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError
        if kind == AttributeType.CHOICE:
            text = str(value).strip()
            if text not in [str(c) for c in definition.choices]:
                raise ValueError
            return text
    except (ValueError, TypeError):
        raise AttributeValueError(
            _("%(label)s: %(value)s is not a valid %(type)s")
            % {"label": definition.label, "value": str(value)[:40], "type": definition.get_type_display()}
        ) from None
    return str(value)[:1000]


def clean_attributes(values: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Split into standard fields and typed custom attributes; unknown keys are an error, so a typo in
    an integration does not silently create a new attribute nobody can see."""
    fields: dict[str, str] = {}
    custom: dict[str, Any] = {}
    definitions = {d.key: d for d in AttributeDefinition.objects.filter(key__in=list(values))}
    for key, value in values.items():
        if key in STANDARD_FIELDS:
            fields[key] = ("" if value is None else str(value)).strip()[: _MAX_LENGTH[key]]
        elif key in definitions:
            custom[key] = coerce(definitions[key], value)
        else:
            raise AttributeValueError(
                _("unknown attribute %(key)s: an admin defines it first") % {"key": key[:60]}
            )
    return fields, custom

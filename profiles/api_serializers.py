"""Request validation and response shapes for the REST API (profiles.api)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from profiles.customer_events import EventInput
from profiles.models import IdentityKind
from profiles.normalize import NormalizationError, normalize_identity
from profiles.resolution import blocked_reason

MAX_BATCH = 500
MAX_JSON_BYTES = 16 * 1024
MAX_JSON_DEPTH = 32
MAX_NAME_LENGTH = 64
# Clocks drift; an event "from the future" beyond this is a sender bug (wrong time zone, ms as s).
CLOCK_SKEW = timedelta(minutes=5)
IDENTITY_KINDS = (IdentityKind.EXTERNAL_ID, IdentityKind.EMAIL, IdentityKind.PHONE)
# Custom attributes are coerced through float(); a bigger integer would overflow there.
_MAX_ATTRIBUTE_INT = 10**15


def _text_problem(text: str) -> str | None:
    # PostgreSQL text and jsonb cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8:
    # either would otherwise fail only at the database, as a server error.
    if "\x00" in text:
        return "text must not contain NUL characters"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "text must not contain unpaired surrogates"
    return None


def json_problem(value: Any, depth: int = 0) -> str | None:
    """Why this parsed JSON cannot be stored, or None."""
    if depth > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH} levels"
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _text_problem(key) or json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = json_problem(item, depth + 1)
            if problem:
                return problem
    return None


def _check_json_object(value: dict[str, Any]) -> dict[str, Any]:
    problem = json_problem(value)
    if problem:
        raise serializers.ValidationError(problem)
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > MAX_JSON_BYTES:
        raise serializers.ValidationError(f"{size} bytes of JSON; at most {MAX_JSON_BYTES} are allowed")
    return value


class RegionField(serializers.CharField):
    """ISO 3166 country for phone numbers written without a country code."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", "")
        kwargs.setdefault("allow_blank", True)
        country = RegexValidator(r"^[A-Za-z]{2}\Z", "must be a two-letter country code")
        super().__init__(max_length=2, validators=[country], **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return super().to_internal_value(data).upper()


class OffsetDateTimeField(serializers.DateTimeField):
    """ISO-8601 with a UTC offset: without one, the same text means different instants to sender and us."""

    default_error_messages = {"naive": "needs a UTC offset, e.g. 2025-05-01T12:00:00Z or +02:00"}

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class IdentitiesSerializer(serializers.Serializer):
    """{"external_id": ..., "email": ..., "phone": ...}: at least one; null or "" means not given."""

    external_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=320)
    email = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=320)
    phone = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(key) for key in data if key not in self.fields)
            if unknown:
                message = "unknown identity kind; use external_id, email or phone"
                raise serializers.ValidationError({key[:64]: [message] for key in unknown[:10]})
        return super().to_internal_value(data)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = {kind: value for kind, value in attrs.items() if value}
        if not given:
            raise serializers.ValidationError("give at least one of external_id, email, phone")
        return given


def normalized_identities(given: dict[str, str], region: str, *, field: str) -> list[tuple[str, str]]:
    """(kind, canonical value) pairs; a value that cannot be normalized is an error on its field."""
    pairs: list[tuple[str, str]] = []
    errors: dict[str, list[str]] = {}
    for kind in IDENTITY_KINDS:
        if kind in given:
            try:
                pairs.append((kind, normalize_identity(kind, given[kind], region)))
            except NormalizationError as exc:
                errors[kind] = [str(exc)]
    if errors:
        raise serializers.ValidationError({field: errors})
    return pairs


class EventSerializer(serializers.Serializer):
    # The sender's id is opaque: " A1" and "A1" are different events, so no trimming.
    event_id = serializers.CharField(max_length=200, trim_whitespace=False)
    name = serializers.CharField(
        max_length=MAX_NAME_LENGTH,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*\Z", "must be snake_case, e.g. order_placed")],
    )
    occurred_at = OffsetDateTimeField()
    customer = IdentitiesSerializer()
    properties = serializers.DictField(default=dict, allow_null=True)

    def validate_occurred_at(self, value: Any) -> Any:
        if value > timezone.now() + CLOCK_SKEW:
            raise serializers.ValidationError("is in the future")
        return value

    def validate_properties(self, value: dict[str, Any] | None) -> dict[str, Any]:
        return _check_json_object(value or {})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        region = self.context.get("region", "")
        attrs["customer"] = normalized_identities(attrs["customer"], region, field="customer")
        return attrs

    @staticmethod
    def to_event(data: dict[str, Any]) -> EventInput:
        return EventInput(
            client_event_id=data["event_id"],
            name=data["name"],
            occurred_at=data["occurred_at"],
            identities=tuple(data["customer"]),
            properties=data["properties"],
        )


class EventBatchSerializer(serializers.Serializer):
    events = serializers.ListField(allow_empty=False, max_length=MAX_BATCH)
    region = RegionField()


@dataclass
class ParsedEvent:
    index: int
    event_id: str | None  # as sent, echoed back so the sender can match results
    event: EventInput | None
    errors: Any = None


def parse_events(items: list[Any], *, region: str) -> list[ParsedEvent]:
    """Validate each event on its own: one bad event must not cost the sender the whole batch."""
    # One instance checks every item: a serializer deep-copies its fields when first used, and doing
    # that 500 times was most of the time a full batch took.
    checker = EventSerializer(context={"region": region})
    parsed = []
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            parsed.append(ParsedEvent(index, None, None, {"non_field_errors": ["an event is a JSON object"]}))
            continue
        sent_id = raw.get("event_id")
        echoable = isinstance(sent_id, str | int) and not isinstance(sent_id, bool)
        echo = str(sent_id)[:200] if echoable else None
        try:
            data = checker.run_validation(raw)
        except serializers.ValidationError as exc:
            parsed.append(ParsedEvent(index, echo, None, exc.detail))
        else:
            parsed.append(ParsedEvent(index, echo, EventSerializer.to_event(data)))
    return parsed


class IdentifySerializer(serializers.Serializer):
    identities = IdentitiesSerializer()
    attributes = serializers.DictField(default=dict, allow_null=True)
    region = RegionField()

    def validate_attributes(self, value: dict[str, Any] | None) -> dict[str, Any]:
        value = _check_json_object(value or {})
        for key, item in value.items():
            if isinstance(item, dict | list):
                raise serializers.ValidationError({key: ["must be text, a number, true/false or null"]})
            if isinstance(item, int) and abs(item) > _MAX_ATTRIBUTE_INT:
                raise serializers.ValidationError({key: ["number too large"]})
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        pairs = normalized_identities(attrs["identities"], attrs["region"], field="identities")
        if all(blocked_reason(kind, value) for kind, value in pairs):
            # Blocked values never link people; a profile reachable by none of its identities is noise.
            raise serializers.ValidationError(
                {"identities": ["shared or test values (info@, test numbers) cannot identify a customer"]}
            )
        attrs["identities"] = pairs
        return attrs

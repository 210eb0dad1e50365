"""REST API for the company's own systems (shops, apps): events and identify. API keys only.

Only API-key authentication is accepted: a browser session cannot call these views, so they have no
CSRF surface. Every error is JSON: {"error": <code>, "detail": <message>, "fields": {...}}.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from rest_framework.exceptions import APIException, ParseError, Throttled, ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from accounts.api_keys import ApiKeyAuthentication, ApiKeyRateThrottle, HasApiKey
from profiles.api_serializers import EventBatchSerializer, IdentifySerializer, ParsedEvent, parse_events
from profiles.attributes import AttributeValueError
from profiles.customer_events import INVALID, EventOutcome, do_record_events
from profiles.merge import MergeError
from profiles.normalize import NormalizationError
from profiles.services import IdentifyResult, do_identify

_FALLBACK_BODY_LIMIT = 10 * 1024 * 1024


class Conflict(APIException):
    status_code = 409
    default_detail = "The customer changed meanwhile (merged, erased); retry the request."
    default_code = "conflict"


class RequestTooLarge(APIException):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "too_large"


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999: JSON allows it, but jsonb and the attribute types do not
        raise ValueError(f"number out of range: {text[:20]}")
    return number


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class BoundedJSONParser(BaseParser):
    """JSON, read up to the site's body limit.

    DRF's own parser reads the whole stream whatever its size and trusts the charset parameter; this
    one stops at the limit, always decodes UTF-8 (RFC 8259) and turns every malformed input, however
    deep or odd, into a 400.
    """

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or _FALLBACK_BODY_LIMIT
        request = (parser_context or {}).get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise RequestTooLarge(f"Request body larger than {limit} bytes.")
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise RequestTooLarge(f"Request body larger than {limit} bytes.")
        try:
            return json.loads(body, parse_float=_finite, parse_constant=_no_constants)
        except RecursionError:
            raise ParseError("JSON nested too deeply.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error: {exc}") from None


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, ValidationError):
        fields = data if isinstance(data, dict) else {"non_field_errors": data}
        response.data = {"error": "invalid", "detail": "The request is not valid.", "fields": fields}
        return response
    detail = data.get("detail", "") if isinstance(data, dict) else str(data)
    response.data = {"error": getattr(detail, "code", "error"), "detail": str(detail)}
    if isinstance(exc, Throttled) and exc.wait is not None:
        response.data["retry_after"] = math.ceil(exc.wait)
    return response


def _flatten(errors: Any, path: str = "") -> Iterator[str]:
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = path if key == "non_field_errors" else f"{path}.{key}" if path else str(key)
            yield from _flatten(value, name)
    elif isinstance(errors, list):
        for value in errors:
            yield from _flatten(value, path)
    else:
        yield f"{path}: {errors}" if path else str(errors)


def event_results(items: list[ParsedEvent], outcomes: Iterator[EventOutcome]) -> dict[str, Any]:
    """The batch response; `outcomes` holds one entry per valid item, in order."""
    results: list[dict[str, Any]] = []
    counts = {"created": 0, "duplicate": 0, "invalid": 0}
    for item in items:
        entry: dict[str, Any] = {"index": item.index, "event_id": item.event_id}
        if item.event is None:
            entry |= {"status": INVALID, "reason": "; ".join(_flatten(item.errors)), "errors": item.errors}
        else:
            outcome = next(outcomes)
            entry["status"] = outcome.status
            if outcome.status == INVALID:
                entry["reason"] = outcome.reason
            else:
                entry |= {"id": outcome.event_id, "customer_id": outcome.customer_id}
        counts[entry["status"]] += 1
        results.append(entry)
    return {"summary": counts, "results": results}


def identify_payload(result: IdentifyResult) -> dict[str, Any]:
    identities = []
    for outcome in result.outcomes:
        entry: dict[str, Any] = {"kind": outcome.kind, "value": outcome.value, "status": outcome.status}
        if outcome.detail:
            entry["detail"] = outcome.detail
        for name in ("other_customer_id", "suggestion_id", "merge_log_id"):
            if getattr(outcome, name) is not None:
                entry[name] = getattr(outcome, name)
        identities.append(entry)
    return {"customer_id": result.customer.pk, "created": result.created, "identities": identities}


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    throttle_classes = [ApiKeyRateThrottle]
    parser_classes = [BoundedJSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Any:
        return api_exception_handler


class EventBatchView(ApiView):
    """POST a batch of events; 200 with one result per event (created, duplicate or invalid)."""

    def post(self, request: Request) -> Response:
        batch = EventBatchSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        items = parse_events(batch.validated_data["events"], region=batch.validated_data["region"])
        try:
            outcomes = do_record_events(events=[item.event for item in items if item.event is not None])
        except MergeError as exc:  # a new customer's identities met a profile being merged or erased
            raise Conflict(f"{exc}; retry the batch") from None
        return Response(event_results(items, iter(outcomes)))


class IdentifyView(ApiView):
    """Upsert a customer by identities the company vouches for; 201 when a customer was created."""

    def post(self, request: Request) -> Response:
        serializer = IdentifySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            result = do_identify(
                identities=data["identities"],
                attributes=data["attributes"],
                region=data["region"],
                source="api",
            )
        except AttributeValueError as exc:
            raise ValidationError({"attributes": [str(exc)]}) from None
        except NormalizationError as exc:
            raise ValidationError({"identities": [str(exc)]}) from None
        except MergeError as exc:
            raise Conflict(f"{exc}; retry the request") from None
        return Response(identify_payload(result), status=201 if result.created else 200)

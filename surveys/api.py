"""REST API for the company's own systems: send a survey to a customer, read the answers. API keys only.

Authentication, throttling, parsing and the error shape are those of profiles.api; see docs/api.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from profiles.api import ApiView
from profiles.models import Customer, IdentityKind
from profiles.normalize import NormalizationError, normalize_identity
from profiles.services import find_identity
from surveys.invitation_models import Invitation, InvitationStatus, Medium, TriggerKind
from surveys.invitations import PUSHED, do_invite
from surveys.models import Survey, SurveyResponse

MAX_DELAY_MINUTES = 60 * 24 * 30


class IdentityRefSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdentityKind.values)
    value = serializers.CharField(max_length=320)


class InvitationRequestSerializer(serializers.Serializer):
    customer_id = serializers.IntegerField(required=False, min_value=1)
    identity = IdentityRefSerializer(required=False)
    medium = serializers.ChoiceField(choices=[m for m in Medium.values if m != Medium.WIDGET])
    delay_minutes = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_DELAY_MINUTES, default=0
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("customer_id" in attrs) == ("identity" in attrs):
            raise serializers.ValidationError("give exactly one of customer_id and identity")
        return attrs


def _customer(data: dict[str, Any]) -> Customer:
    """The live customer the request names; 404 for one we do not know (or that was erased)."""
    if "customer_id" in data:
        customer = Customer.objects.filter(pk=data["customer_id"]).first()
    else:
        kind, value = data["identity"]["kind"], data["identity"]["value"]
        try:
            value = normalize_identity(kind, value)
        except NormalizationError as exc:
            raise ValidationError({"identity": {"value": [str(exc)]}}) from None
        identity = find_identity(kind, value)
        customer = identity.customer if identity is not None else None
    # A merged-away profile answers for the one it was merged into.
    for _hop in range(5):  # merges chain rarely; a bound keeps a corrupt cycle from spinning
        if customer is None or customer.merged_into_id is None:
            break
        customer = Customer.objects.filter(pk=customer.merged_into_id).first()
    if customer is None or customer.erased_at is not None:
        raise NotFound("No such customer.")
    return customer


def _answer_url(request: Request, invitation: Invitation) -> str:
    try:
        return request.build_absolute_uri(reverse("survey_public:answer", kwargs={"token": invitation.token}))
    except NoReverseMatch:
        return ""


def invitation_payload(request: Request, invitation: Invitation) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": invitation.pk,
        "survey_id": invitation.survey_id,
        "customer_id": invitation.customer_id,
        "medium": invitation.medium,
        "status": invitation.status,
        "reason": invitation.reason,
        "send_at": invitation.send_at.isoformat() if invitation.send_at else None,
        "expires_at": invitation.expires_at.isoformat(),
    }
    # The caller delivers link and API invitations itself, so it needs the answer link; pushed ones
    # go out through our channels and their link stays with the customer.
    if invitation.medium not in PUSHED and invitation.status != InvitationStatus.THROTTLED:
        payload["url"] = _answer_url(request, invitation)
    return payload


class SurveyInvitationsView(ApiView):
    """Invite one customer; 201 with the invitation, also when the fatigue rules throttled it."""

    def post(self, request: Request, pk: int) -> Response:
        survey = get_object_or_404(Survey, pk=pk)
        serializer = InvitationRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = _customer(data)
        invitation = do_invite(
            survey=survey,
            customer=customer,
            medium=data["medium"],
            trigger=TriggerKind.API,
            delay=timedelta(minutes=data["delay_minutes"]),
        )
        return Response(invitation_payload(request, invitation), status=201)


class ResponseCursor(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200


def response_payload(response: SurveyResponse) -> dict[str, Any]:
    return {
        "id": response.pk,
        "survey_id": response.survey_id,
        "customer_id": response.customer_id,
        "invitation_id": response.invitation_id,
        "conversation_id": response.conversation_id,
        "channel_id": response.channel_id,
        "agent_id": response.agent_id,
        "medium": response.medium,
        "locale": response.locale,
        "score": response.score,
        "comment": response.comment,
        "answers": response.answers,
        "is_complete": response.is_complete,
        "created_at": response.created_at.isoformat(),
    }


class SurveyResponsesView(ApiView):
    """The survey's answers, newest first, a cursor page at a time."""

    def get(self, request: Request, pk: int) -> Response:
        survey = get_object_or_404(Survey, pk=pk)
        paginator = ResponseCursor()
        page = paginator.paginate_queryset(SurveyResponse.objects.filter(survey=survey), request, view=self)
        return paginator.get_paginated_response([response_payload(r) for r in page or []])

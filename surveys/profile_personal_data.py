"""The personal data surveys hold, for profiles' privacy tools: which fields, which of the person's
rows, what the export carries, and what an erasure must close besides."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from profiles import personal_data
from profiles.personal_data import Erase, Kind, NotPersonal, Personal, Provider
from profiles.privacy_export import ExportContext, export_row
from profiles.privacy_rows import PersonRows
from surveys.invitation_models import FollowUp, Invitation
from surveys.models import SurveyResponse

PERSONAL: tuple[Personal, ...] = (
    Personal("surveys.Invitation", "recipient", Kind.CONTACT, Erase.BLANK, "invitations"),
    Personal("surveys.Invitation", "token", Kind.IDENTIFIER, Erase.ROTATE, "invitations", False),
    Personal("surveys.SurveyResponse", "comment", Kind.FREE_TEXT, Erase.BLANK, "responses"),
    Personal("surveys.SurveyResponse", "answers", Kind.FREE_TEXT, Erase.BLANK, "responses"),
    Personal("surveys.FollowUp", "note", Kind.FREE_TEXT, Erase.BLANK, "follow_ups"),
)

NOT_PERSONAL: tuple[NotPersonal, ...] = (
    NotPersonal("surveys.Survey", (), "the company's questions"),
    NotPersonal("surveys.Trigger", (), "when surveys are sent"),
    NotPersonal(
        "surveys.Invitation", ("medium", "trigger", "status", "reason", "locale"), "how and why it was sent"
    ),
    NotPersonal("surveys.SurveyResponse", ("medium", "locale"), "how it was answered"),
    NotPersonal("surveys.FollowUp", ("outcome",), "a fixed outcome, kept for statistics"),
)


def _pks(queryset: models.QuerySet) -> list[int]:
    return list(queryset.values_list("pk", flat=True))


def collect(found: PersonRows) -> None:
    ids, conversations = found.ids, found.conversation_ids
    invitations = _pks(
        Invitation.objects.filter(
            models.Q(customer_id__in=ids)
            | models.Q(conversation_id__in=conversations)
            | models.Q(recipient__in=found.values)
        )
    )
    responses = _pks(
        SurveyResponse.objects.filter(
            models.Q(customer_id__in=ids)
            | models.Q(conversation_id__in=conversations)
            | models.Q(invitation_id__in=invitations)
        )
    )
    found.rows.update(
        {
            "invitations": invitations,
            "responses": responses,
            "follow_ups": _pks(
                FollowUp.objects.filter(
                    models.Q(response_id__in=responses) | models.Q(conversation_id__in=conversations)
                )
            ),
        }
    )


def close_invitations(found: PersonRows) -> None:
    """Their tokens were replaced already; closing them as well keeps the sender and the in-channel
    answer path from acting on an invitation whose recipient is gone."""
    now = timezone.now()
    Invitation.objects.filter(pk__in=found.rows["invitations"], expires_at__gt=now).update(expires_at=now)


def export(context: ExportContext) -> dict[str, Any]:
    ids, conversation_ids = context.ids, context.conversation_ids
    mine = models.Q(customer_id__in=ids) | models.Q(conversation_id__in=conversation_ids)
    invitations = (
        Invitation.objects.filter(mine).select_related("survey", "channel").order_by("created_at", "pk")
    )
    responses = SurveyResponse.objects.filter(mine).select_related("survey").order_by("created_at", "pk")
    follow_ups = FollowUp.objects.filter(
        models.Q(response__customer_id__in=ids) | models.Q(conversation_id__in=conversation_ids)
    ).order_by("opened_at", "pk")
    return {
        "survey_invitations": [
            export_row(
                i,
                survey=i.survey.name,
                medium=i.medium,
                channel=i.channel.name if i.channel else None,
                status=i.status,
                created_at=i.created_at,
                sent_at=i.sent_at,
                answered_at=i.answered_at,
            )
            for i in invitations
        ],
        "survey_responses": [
            export_row(
                r,
                customer_id=r.customer_id,
                survey=r.survey.name,
                survey_kind=r.survey.kind,
                score=r.score,
                conversation_id=r.conversation_id,
                invitation_id=r.invitation_id,
                created_at=r.created_at,
            )
            for r in responses
        ],
        "survey_follow_ups": [
            export_row(
                f,
                response_id=f.response_id,
                conversation_id=f.conversation_id,
                outcome=f.outcome,
                opened_at=f.opened_at,
                closed_at=f.closed_at,
            )
            for f in follow_ups
        ],
    }


def register() -> None:
    personal_data.register(
        Provider(
            app="surveys",
            # After tickets: answers and invitations are found through the person's conversations.
            order=20,
            personal=PERSONAL,
            not_personal=NOT_PERSONAL,
            collect=collect,
            export=export,
            sections={
                "surveys.Invitation": "survey_invitations",
                "surveys.SurveyResponse": "survey_responses",
                "surveys.FollowUp": "survey_follow_ups",
            },
            erased=close_invitations,
        )
    )

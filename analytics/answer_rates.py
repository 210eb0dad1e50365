"""Response rates: of the invitations sent in the range, how many were answered; per survey, channel
and medium.

Read from the invitations themselves (one grouped query, through `Visibility.linked` on the
invitation's conversation): an invitation is counted in the range its `sent_at` falls in, and as
answered once it has an answer, whenever that came. Invitations never sent (throttled, failed, still
waiting) are not in the denominator. Dimensions as on answers: the conversation's channel, else the
invitation's; the conversation's team; the invitation's agent, else the conversation's assignee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce

from core import stats
from surveys.invitation_models import Invitation, InvitationStatus
from tickets.models import Conversation
from tickets.visibility import Visibility

RateDimension = Literal["survey", "channel", "medium"]
_FIELDS = {"survey": "survey_id", "channel": "dim_channel", "medium": "medium"}


# Not sent after all, whatever sent_at says; a pending invitation with sent_at set went out.
_NOT_SENT = (InvitationStatus.THROTTLED, InvitationStatus.FAILED)


def _ids_q(field: str, ids: Iterable[int]) -> Q:
    wanted = list(ids)
    q = Q(**{f"{field}__in": [i for i in wanted if i]})
    if 0 in wanted:
        q |= Q(**{f"{field}__isnull": True})
    return q


def invitations(filters: Any, visibility: Visibility) -> QuerySet[Invitation]:
    """The invitations sent in the range under the filters, as the viewer may see them."""
    qs = visibility.linked(Invitation.objects.all()).annotate(
        dim_channel=Coalesce(F("conversation__channel_id"), F("channel_id")),
        dim_team=F("conversation__team_id"),
        dim_agent=Coalesce(F("agent_id"), F("conversation__assignee_id")),
    )
    qs = qs.filter(sent_at__gte=filters.start, sent_at__lt=filters.end).exclude(status__in=_NOT_SENT)
    if filters.survey_ids:
        qs = qs.filter(survey_id__in=filters.survey_ids)
    if filters.channel_ids:
        qs = qs.filter(dim_channel__in=filters.channel_ids)
    if filters.team_ids:
        qs = qs.filter(_ids_q("dim_team", filters.team_ids))
    if filters.agent_ids:
        qs = qs.filter(_ids_q("dim_agent", filters.agent_ids))
    if filters.language:
        qs = qs.filter(locale=filters.language)
    if filters.label_ids:
        labelled = Conversation.labels.through.objects.filter(label_id__in=filters.label_ids)
        qs = qs.filter(conversation_id__in=labelled.values("conversation_id"))
    if filters.segment_id:
        from analytics.answer_reporting import _segment_customers

        qs = qs.filter(customer_id__in=_segment_customers(filters.segment_id))
    return qs


# Answered: the invitation records it (the answer itself may have been erased since).
_ANSWERED = Q(answered_at__isnull=False)


@dataclass(frozen=True)
class Rate:
    key: int | str | None
    label: str
    sent: int
    answered: int

    @property
    def rate(self) -> stats.Estimate:
        """Share answered (0..100) with its Wilson interval."""
        return stats.wilson(self.answered, self.sent).scaled(100)


@dataclass(frozen=True)
class ResponseRates:
    total: Rate
    by_survey: list[Rate]
    by_channel: list[Rate]
    by_medium: list[Rate]


def response_rates(filters: Any, visibility: Visibility) -> ResponseRates:
    """Overall and per survey, channel and medium: one grouped query, plus one per label kind."""
    rows = list(
        invitations(filters, visibility)
        .values("survey_id", "dim_channel", "medium")  # type: ignore[misc]  # annotated, unseen by the stubs
        .annotate(sent=Count("pk"), answered=Count("pk", filter=_ANSWERED))
        .order_by()
    )
    sent, answered = sum(r["sent"] for r in rows), sum(r["answered"] for r in rows)
    return ResponseRates(
        total=Rate(None, "", sent, answered),
        by_survey=_by(rows, "survey"),
        by_channel=_by(rows, "channel"),
        by_medium=_by(rows, "medium"),
    )


def _by(rows: list[dict[str, Any]], by: RateDimension) -> list[Rate]:
    from analytics.answer_reporting import _labels

    field = _FIELDS[by]
    sums: dict[Any, list[int]] = {}
    for row in rows:
        pair = sums.setdefault(row[field], [0, 0])
        pair[0] += row["sent"]
        pair[1] += row["answered"]
    labels = _labels(by, [key for key in sums if key not in (None, "")])
    rates = [Rate(key, labels.get(key, ""), sent, answered) for key, (sent, answered) in sums.items()]
    return sorted(rates, key=lambda rate: (-rate.sent, str(rate.label)))


def drill_invitations(
    filters: Any,
    visibility: Visibility,
    measure: Literal["sent", "answered"],
    *,
    survey_id: int | None = None,
    channel_id: int | None = None,
    medium: str | None = None,
) -> QuerySet[Invitation]:
    """The invitations behind a response-rate number; its count equals the number."""
    qs = invitations(filters, visibility)
    if survey_id is not None:
        qs = qs.filter(survey_id=survey_id)
    if channel_id is not None:
        qs = qs.filter(dim_channel=channel_id)  # type: ignore[misc]  # annotated, unseen by the stubs
    if medium is not None:
        qs = qs.filter(medium=medium)
    if measure == "answered":
        qs = qs.filter(_ANSWERED)
    elif measure != "sent":
        raise ValueError(f"unknown response-rate measure {measure!r}")
    return qs.order_by("-sent_at", "-pk")

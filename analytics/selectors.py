from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, Sum

from accounts.models import Team, User
from analytics import metrics
from channels_app.models import Channel
from profiles.models import Customer
from surveys.models import SurveyKind, SurveyResponse
from tickets.models import Conversation, ConversationStatus, Message


def workspace_overview() -> dict[str, Any]:
    """Headline counts for the home page (a fixed handful of aggregate queries)."""
    by_status = dict(Conversation.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "customers": Customer.objects.count(),
        "conversations": sum(by_status.values()),
        "by_status": [(value, label, by_status.get(value, 0)) for value, label in ConversationStatus.choices],
        "messages": Message.objects.count(),
        "channels": Channel.objects.filter(is_active=True).count(),
        "users": User.objects.filter(is_active=True).count(),
        "teams": Team.objects.count(),
        "responses": SurveyResponse.objects.count(),
    }


def score_summaries() -> dict[str, metrics.ScoreSummary]:
    agg = SurveyResponse.objects.aggregate(
        nps_promoters=Count("id", filter=Q(survey__kind=SurveyKind.NPS, score__gte=9)),
        nps_passives=Count("id", filter=Q(survey__kind=SurveyKind.NPS, score__in=(7, 8))),
        nps_detractors=Count("id", filter=Q(survey__kind=SurveyKind.NPS, score__lte=6)),
        csat_total=Count("id", filter=Q(survey__kind=SurveyKind.CSAT)),
        csat_satisfied=Count("id", filter=Q(survey__kind=SurveyKind.CSAT, score__gte=4)),
        ces_total=Count("id", filter=Q(survey__kind=SurveyKind.CES)),
        ces_sum=Sum("score", filter=Q(survey__kind=SurveyKind.CES)),
    )
    return {
        "nps": metrics.nps(
            promoters=agg["nps_promoters"], passives=agg["nps_passives"], detractors=agg["nps_detractors"]
        ),
        "csat": metrics.csat(satisfied=agg["csat_satisfied"], total=agg["csat_total"]),
        "ces": metrics.ces(score_sum=agg["ces_sum"] or 0, total=agg["ces_total"]),
    }


def volume_by_channel() -> list[dict[str, Any]]:
    rows = (
        Channel.objects.annotate(
            conversation_count=Count("conversations", distinct=True),
            open_conversations=Count(
                "conversations", filter=Q(conversations__status=ConversationStatus.OPEN), distinct=True
            ),
        )
        .order_by("kind", "name")
        .values("id", "kind", "name", "conversation_count", "open_conversations")
    )
    return [dict(row) for row in rows]

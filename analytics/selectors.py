from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from accounts.models import Team, User
from analytics import metrics
from channels_app.models import Channel
from profiles.models import Customer
from surveys import scoring
from surveys.models import SurveyResponse
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
    # The rules of surveys.scoring: CSAT "satisfied" on each answer's own scale (top two of 1-5, top of 1-3).
    totals = scoring.score_totals(SurveyResponse.objects.all())
    return {
        "nps": metrics.nps(
            promoters=totals.promoters, passives=totals.passives, detractors=totals.nps_detractors
        ),
        "csat": metrics.csat(satisfied=totals.satisfied, total=totals.n("csat5", "csat3")),
        "ces": metrics.ces(score_sum=totals.moments["ces"].total, total=totals.moments["ces"].n),
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

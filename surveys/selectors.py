from __future__ import annotations

from django.db.models import Avg, Count, Q, QuerySet

from surveys.models import Survey


def surveys_with_stats() -> QuerySet[Survey]:
    return Survey.objects.select_related("owner").annotate(
        response_count=Count("responses"),
        average_score=Avg("responses__score"),
        promoters=Count("responses", filter=Q(responses__score__gte=9)),
        detractors=Count("responses", filter=Q(responses__score__lte=6)),
    )

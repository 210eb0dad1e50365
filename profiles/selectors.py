from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from profiles.models import Customer, Identity


def customer_page(*, query: str = "", limit: int = 50) -> list[Customer]:
    # Profiles merged into another stay (hidden) for an exact undo; the survivor stands for them.
    qs: QuerySet[Customer] = Customer.objects.filter(merged_into__isnull=True)
    if query:
        qs = qs.filter(Q(name__icontains=query) | Q(identities__value__icontains=query.lower())).distinct()
    qs = (
        qs.annotate(conversation_count=Count("conversations", distinct=True))
        .prefetch_related(Prefetch("identities", queryset=Identity.objects.order_by("kind", "value")))
        .order_by("-last_seen_at", "-id")
    )
    return list(qs[:limit])

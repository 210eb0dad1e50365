"""Conversations follow their customer through a profile merge and back through its undo."""

from __future__ import annotations

from django.db import models
from django.db.models import Count

from core.events import add_interceptor
from profiles.merge_points import CustomersMerging, CustomersUnmerging, HistoryWeighed
from tickets.models import Conversation

# Merge-log labels: logs written before this module existed use the same ones, so their undo still works.
MOVED: dict[str, type[models.Model]] = {"conversation": Conversation}


def move_to_survivor(call: CustomersMerging) -> None:
    ids = list(Conversation.objects.filter(customer_id=call.merged_id).values_list("pk", flat=True))
    Conversation.objects.filter(pk__in=ids).update(customer_id=call.survivor_id)
    call.moved["conversation"] = ids


def move_back(call: CustomersUnmerging) -> None:
    ids = call.moved.get("conversation", [])
    # Only rows still on the survivor go back; whatever arrived after the merge stays with it.
    Conversation.objects.filter(pk__in=ids, customer_id=call.survivor_id).update(customer_id=call.merged_id)
    call.returned_conversation_ids.extend(ids)


def conversation_counts(call: HistoryWeighed) -> dict[int, int]:
    rows = (
        Conversation.objects.filter(customer_id__in=call.customer_ids)
        .values("customer_id")
        .annotate(total=Count("id"))
        .order_by()
    )
    return {row["customer_id"]: row["total"] for row in rows}


def register() -> None:
    # Before the surveys' handlers: answers given in a returned conversation follow it back.
    add_interceptor(CustomersMerging, move_to_survivor, order=10)
    add_interceptor(CustomersUnmerging, move_back, order=10)
    add_interceptor(HistoryWeighed, conversation_counts, order=10)

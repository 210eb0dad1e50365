"""The segment condition on a customer's conversations: `{"type": "conversation", "status": "open",
"op": "has"}` selects customers with (or without) a conversation in that status."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from profiles import segment_conditions
from profiles.segment_conditions import Condition
from profiles.segments import HAS_OPS, check_choice
from tickets.models import Conversation

CONVERSATION_STATUSES = ("open", "pending", "snoozed", "resolved")


def clean(rule: dict[str, Any]) -> dict[str, Any]:
    check_choice(rule["status"], CONVERSATION_STATUSES, _("conversation status"))
    check_choice(rule["op"], HAS_OPS, _("operator"))
    return rule


def compile_rule(rule: dict[str, Any]) -> Q:
    exists = Q(Exists(Conversation.objects.filter(customer_id=OuterRef("pk"), status=rule["status"])))
    return exists if rule["op"] == "has" else ~exists


def register() -> None:
    segment_conditions.register(
        Condition(
            type="conversation",
            required=frozenset({"status", "op"}),
            optional=frozenset(),
            clean=clean,
            compile=compile_rule,
            ops=HAS_OPS,
        )
    )

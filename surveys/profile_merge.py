"""Survey answers and invitations follow their customer through a profile merge and its undo."""

from __future__ import annotations

from django.db import models

from core.events import add_interceptor
from profiles.merge_points import CustomersMerging, CustomersUnmerging
from surveys.invitation_models import Invitation
from surveys.models import SurveyResponse

# Merge-log labels: logs written before this module existed use the same ones, so their undo still works.
MOVED: dict[str, type[models.Model]] = {
    "survey_response": SurveyResponse,
    # Who was asked when: fatigue rules must see the merged person's invitations too.
    "survey_invitation": Invitation,
}


def move_to_survivor(call: CustomersMerging) -> None:
    for label, model in MOVED.items():
        ids = list(model._default_manager.filter(customer_id=call.merged_id).values_list("pk", flat=True))
        model._default_manager.filter(pk__in=ids).update(customer_id=call.survivor_id)
        call.moved[label] = ids


def move_back(call: CustomersUnmerging) -> None:
    for label, model in MOVED.items():
        model._default_manager.filter(pk__in=call.moved.get(label, []), customer_id=call.survivor_id).update(
            customer_id=call.merged_id
        )
    # An answer to a survey about a conversation that went back goes with it, even one given after
    # the merge: it is about that conversation's person.
    SurveyResponse.objects.filter(
        customer_id=call.survivor_id, conversation_id__in=call.returned_conversation_ids
    ).update(customer_id=call.merged_id)


def register() -> None:
    # After tickets' handler, which lists the conversations that went back.
    add_interceptor(CustomersMerging, move_to_survivor, order=20)
    add_interceptor(CustomersUnmerging, move_back, order=20)

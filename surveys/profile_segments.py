"""The segment condition on a customer's latest NPS answer: `{"type": "nps", "group": "detractor"}`;
the group "none" selects customers who never answered an NPS survey."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.lookups import Range
from django.utils.translation import gettext as _

from profiles import segment_conditions
from profiles.segment_conditions import Condition
from profiles.segments import check_choice
from surveys import scoring
from surveys.models import SurveyResponse

# The groups of surveys.scoring (0-6, 7-8, 9-10), plus "none".
NPS_GROUPS: dict[str, tuple[int, int] | None] = {**scoring.NPS_GROUPS, "none": None}


def clean(rule: dict[str, Any]) -> dict[str, Any]:
    check_choice(rule["group"], NPS_GROUPS, _("NPS group"))
    return rule


def compile_rule(rule: dict[str, Any]) -> Q:
    answers = SurveyResponse.objects.filter(customer_id=OuterRef("pk"), survey__kind=scoring.NPS)
    bounds = NPS_GROUPS[rule["group"]]
    if bounds is None:
        return ~Q(Exists(answers))
    latest = answers.order_by("-created_at", "-pk").values("score")[:1]
    return Q(Range(Subquery(latest), bounds))


def register() -> None:
    segment_conditions.register(
        Condition(
            type="nps",
            required=frozenset({"group"}),
            optional=frozenset(),
            clean=clean,
            compile=compile_rule,
            ops=tuple(NPS_GROUPS),
        )
    )

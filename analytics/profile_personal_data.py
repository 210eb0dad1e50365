"""What the reporting store holds on a person, for the privacy registry: ids and counts, no words.

Facts and cells carry a customer's id at most (numbers, which the registry does not ask about); they
are recomputed from the raw rows after an erasure or a merge (analytics/handlers.py), so nothing here
outlives the rows it was computed from.
"""

from __future__ import annotations

from profiles import personal_data
from profiles.personal_data import NotPersonal, Provider

NOT_PERSONAL = (
    NotPersonal("analytics.ConversationFact", ("status",), "a conversation's state"),
    NotPersonal("analytics.ConversationCell", ("grain",), "hour, day or month"),
    NotPersonal("analytics.AnswerFact", ("medium", "language"), "how and in which language, no words"),
    NotPersonal("analytics.AnswerCell", ("grain", "medium", "language"), "counts by period and medium"),
    NotPersonal("analytics.DigestSubscription", ("time_zone",), "a staff member's zone"),
    NotPersonal("analytics.MetricTarget", ("metric",), "which metric a target is for"),
)


def register() -> None:
    personal_data.register(Provider(app="analytics", order=30, not_personal=NOT_PERSONAL))

"""The reporting store: facts per conversation and per reply, and the rollup cells summed from them.

Facts are derived rows, recomputed from the raw tables (`analytics/facts.py`) whenever a domain event
marks their conversation dirty; they hold no foreign keys, so a fact can outlive an erased conversation
until the refresh deletes it and corrects the cells it counted in. Cells (`analytics/rollups.py`) are
recomputed from the facts, never incremented, so they always equal a recomputation.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _


class AnalyticsPermissions(models.Model):
    """Holds the analytics permissions."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboards", _("Can view CX dashboards")),
            ("export_data", _("Can export data")),
        ]

    def __str__(self) -> str:
        return "analytics permissions"


class ConversationFact(models.Model):
    """One conversation as reporting sees it. Definitions (docs/metrics.md cites these):

    - dimensions: `channel_id` the channel it started on, `team_id` / `assignee_id` its current team and
      assignee (0 = none), `customer_id` its current customer (after merges);
    - first response: the first outbound message written by an agent (author set, not automated)
      after the conversation's first inbound message; `first_response_seconds` is the time from that
      inbound message to it (a reply before any inbound message answers nobody);
    - resolution: from `created_at` to the latest resolution, counted only while the conversation is
      resolved (`resolved_at` is then the moment of that resolution, else NULL);
    - reopenings: each resolution (a "conversation resolved" timeline entry) that was undone later;
      the moment of a reopening is the first message after that resolution (and before the next
      one), or when there is none the resolution itself (an agent reopened it without writing;
      nothing records when). `reopen_count` is their number, `reopen_times` their moments;
    - business seconds: working time in the calendar of the conversation's SLA policy
      (`tickets/business_time.py`), equal to wall-clock seconds when it has no policy or the policy
      has no business hours;
    - within target: the business time is at most the policy's target for that kind (NULL when the
      conversation's policy sets no such target);
    - backlog at a moment t: conversations created before t whose latest resolution is not before t
      (or that are unresolved);
    - SLA breaches: announced breaches (`SlaBreachNotice` rows) per kind;
    - messages: all inbound / outbound messages of the conversation (reported in the period of its
      creation: "messages per conversation" is about the conversations created in a range);
    - scores: the latest answer of each survey kind tied to the conversation.
    """

    conversation_id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    channel_id = models.BigIntegerField()
    team_id = models.BigIntegerField(default=0)
    assignee_id = models.BigIntegerField(default=0)
    customer_id = models.BigIntegerField()
    status = models.CharField(max_length=16)
    sla_policy_id = models.BigIntegerField(null=True)
    resolved_at = models.DateTimeField(null=True)
    first_response_at = models.DateTimeField(null=True)
    first_response_seconds = models.FloatField(null=True)
    first_response_business_seconds = models.FloatField(null=True)
    first_response_within = models.BooleanField(null=True)
    resolution_seconds = models.FloatField(null=True)
    resolution_business_seconds = models.FloatField(null=True)
    resolution_within = models.BooleanField(null=True)
    reopen_count = models.IntegerField(default=0)
    reopen_times = ArrayField(models.DateTimeField(), default=list)
    inbound_messages = models.IntegerField(default=0)
    outbound_messages = models.IntegerField(default=0)
    breaches_first_response = models.IntegerField(default=0)
    breaches_next_response = models.IntegerField(default=0)
    breaches_resolution = models.IntegerField(default=0)
    csat_score = models.SmallIntegerField(null=True)
    nps_score = models.SmallIntegerField(null=True)
    ces_score = models.SmallIntegerField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="fact_created"),
            models.Index(fields=["resolved_at"], name="fact_resolved"),
            models.Index(fields=["channel_id", "created_at"], name="fact_channel"),
            models.Index(fields=["team_id", "created_at"], name="fact_team"),
            models.Index(fields=["assignee_id", "created_at"], name="fact_assignee"),
            models.Index(fields=["customer_id"], name="fact_customer"),
        ]

    def __str__(self) -> str:
        return f"fact {self.conversation_id}"


class ReplyFact(models.Model):
    """One agent reply that answered a waiting customer, keyed by its message id.

    A customer waits from the first inbound message after the previous agent reply (or after the
    start); the first such reply of a conversation is its first response (`is_first`), every later one
    a next response. `agent_id` wrote it; the dimensions used by the cells are the conversation's own.
    """

    message_id = models.BigIntegerField(primary_key=True)
    conversation_id = models.BigIntegerField()
    agent_id = models.BigIntegerField()
    channel_id = models.BigIntegerField()
    team_id = models.BigIntegerField(default=0)
    assignee_id = models.BigIntegerField(default=0)
    replied_at = models.DateTimeField()
    waited_seconds = models.FloatField()
    waited_business_seconds = models.FloatField()
    is_first = models.BooleanField()
    within_target = models.BooleanField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["conversation_id"], name="reply_fact_conversation"),
            models.Index(fields=["replied_at"], name="reply_fact_replied"),
        ]

    def __str__(self) -> str:
        return f"reply fact {self.message_id}"


def _hist() -> ArrayField:
    # int4, so a cell's six histograms stay under PostgreSQL's TOAST threshold: reads sum them element
    # by element, which must not decompress the row once per element. NULL means all zeros.
    return ArrayField(models.IntegerField(), null=True)


class ConversationCell(models.Model):
    """Sums of facts for one UTC period (grain h/d/m) and one (channel, team, agent) combination.

    Events fall in the period of their own moment: created (and its messages, SLA figures) at
    `created_at`, resolved and resolution times at the latest resolution, reopened at each reopening,
    first and next responses at the reply. `created - resolved` summed over every period before a
    moment is the backlog at that moment. Histograms count times in `analytics.buckets.EDGES`.
    """

    grain = models.CharField(max_length=1)
    period_start = models.DateTimeField()
    channel_id = models.BigIntegerField()
    team_id = models.BigIntegerField()
    agent_id = models.BigIntegerField()
    created = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    # Of the conversations resolved in the period, those reopened at least once before: the reopen rate.
    resolved_reopened = models.IntegerField(default=0)
    inbound_messages = models.BigIntegerField(default=0)
    outbound_messages = models.BigIntegerField(default=0)
    sla_with_policy = models.IntegerField(default=0)
    sla_breached = models.IntegerField(default=0)
    breaches_first_response = models.IntegerField(default=0)
    breaches_next_response = models.IntegerField(default=0)
    breaches_resolution = models.IntegerField(default=0)
    fr_n = models.IntegerField(default=0)
    fr_sum = models.FloatField(default=0)
    fr_bsum = models.FloatField(default=0)
    fr_with = models.IntegerField(default=0)
    fr_within = models.IntegerField(default=0)
    fr_hist = _hist()
    fr_bhist = _hist()
    nr_n = models.IntegerField(default=0)
    nr_sum = models.FloatField(default=0)
    nr_bsum = models.FloatField(default=0)
    nr_with = models.IntegerField(default=0)
    nr_within = models.IntegerField(default=0)
    nr_hist = _hist()
    nr_bhist = _hist()
    res_n = models.IntegerField(default=0)
    res_sum = models.FloatField(default=0)
    res_bsum = models.FloatField(default=0)
    res_with = models.IntegerField(default=0)
    res_within = models.IntegerField(default=0)
    res_hist = _hist()
    res_bhist = _hist()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "period_start", "channel_id", "team_id", "agent_id"], name="cell_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period_start:%Y-%m-%d %H}"


from analytics.answer_models import AnswerCell, AnswerFact  # noqa: E402, F401
from analytics.digest_models import DigestSubscription  # noqa: E402, F401
from analytics.target_models import MetricTarget  # noqa: E402, F401

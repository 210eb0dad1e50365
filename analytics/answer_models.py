"""The answer side of the reporting store: one fact per survey answer, and rollup cells of them.

Both are derived: `answer_refresh` recomputes them from `SurveyResponse` rows (never increments), so
they always equal what the raw rows say once the refresh has run. No database foreign keys: a fact
outlives its answer (an erasure, a deleted survey) until the refresh removes it and fixes its cells.

Dimensions of an answer (documented in docs/metrics.md by the metrics engineer, decided here):
- channel: the channel of the answer's conversation; for an answer tied to no conversation (widget,
  shareable link), the channel the invitation went through.
- team: the team of the answer's conversation (an answer records no team of its own), so a
  reassignment to another team moves the answer with it.
- agent: the agent recorded on the answer (who handled the conversation when the survey was sent);
  when the answer records none, the conversation's current assignee.
- medium and language: as recorded on the answer.
Scores are stored as counts per score value 0..10, so no rule (NPS groups, CSAT scale, CES effort)
is baked in: `surveys/scoring.py` applies them at read time with each survey's own scale.
"""

from __future__ import annotations

from django.db import models

SCORE_VALUES = tuple(range(11))
SCORE_COLUMNS = tuple(f"s{value}" for value in SCORE_VALUES)


class AnswerFact(models.Model):
    response_id = models.BigIntegerField(primary_key=True)
    created_at = models.DateTimeField()
    survey_id = models.IntegerField()
    channel_id = models.IntegerField(null=True)
    team_id = models.IntegerField(null=True)
    agent_id = models.IntegerField(null=True)
    conversation_id = models.IntegerField(null=True)
    customer_id = models.IntegerField(null=True)
    medium = models.CharField(max_length=16, blank=True)
    language = models.CharField(max_length=8, blank=True)
    score = models.SmallIntegerField()
    has_comment = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="answerfact_created"),
            models.Index(fields=["conversation_id"], name="answerfact_conversation"),
            models.Index(fields=["customer_id"], name="answerfact_customer"),
            models.Index(fields=["survey_id", "created_at"], name="answerfact_survey_created"),
        ]

    def __str__(self) -> str:
        return f"answer fact {self.response_id}"


class Grain(models.TextChoices):
    HOUR = "h", "hour"
    DAY = "d", "day"
    MONTH = "m", "month"


class AnswerCell(models.Model):
    """Answers of one UTC hour, day or month with the same dimensions: counts per score value."""

    grain = models.CharField(max_length=1, choices=Grain.choices)
    period_start = models.DateTimeField()
    survey_id = models.IntegerField()
    channel_id = models.IntegerField(null=True)
    team_id = models.IntegerField(null=True)
    agent_id = models.IntegerField(null=True)
    medium = models.CharField(max_length=16, blank=True)
    language = models.CharField(max_length=8, blank=True)
    s0 = models.IntegerField(default=0)
    s1 = models.IntegerField(default=0)
    s2 = models.IntegerField(default=0)
    s3 = models.IntegerField(default=0)
    s4 = models.IntegerField(default=0)
    s5 = models.IntegerField(default=0)
    s6 = models.IntegerField(default=0)
    s7 = models.IntegerField(default=0)
    s8 = models.IntegerField(default=0)
    s9 = models.IntegerField(default=0)
    s10 = models.IntegerField(default=0)
    comments = models.IntegerField(default=0)

    class Meta:
        indexes = [
            # Reads: a grain and a range of periods; refreshes: a grain, a period and a survey.
            models.Index(fields=["grain", "period_start", "survey_id"], name="answercell_period"),
        ]

    def __str__(self) -> str:
        return f"{self.grain} {self.period_start:%Y-%m-%d %H}h survey {self.survey_id}"

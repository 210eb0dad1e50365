from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from surveys import scoring


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT")
    CES = "ces", _("CES")


# The default answer scale of each kind and its follow-up threshold: defined once, in surveys.scoring
# (a CSAT survey may use 1 to 3 instead, Survey.scale_max).
SCALES = scoring.SCALES
DETRACTOR_AT_OR_BELOW = scoring.DETRACTOR_AT_OR_BELOW


class ScaleStyle(models.TextChoices):
    NUMBERS = "numbers", _("Numbers")
    STARS = "stars", _("Stars")
    EMOJI = "emoji", _("Emoji")
    WORDS = "words", _("Words")


class Survey(models.Model):
    kind = models.CharField(_("type"), max_length=8, choices=SurveyKind.choices)
    name = models.CharField(_("name"), max_length=200)
    # Question texts per language code, e.g. {"en": "...", "pl": "...", "ru": "..."}; empty = the default.
    question = models.JSONField(_("question"), default=dict, blank=True)
    # The open question after the score, per language; {} asks the default one, {"off": true} none.
    followup_question = models.JSONField(_("follow-up question"), default=dict, blank=True)
    # Further questions: [{"id": "speed", "text": {"en": ...}, "choices": [{"en": ...}, ...]}]; no
    # choices means free text.
    extra_questions = models.JSONField(_("extra questions"), default=list, blank=True)
    scale_max = models.PositiveSmallIntegerField(
        _("highest score"), null=True, blank=True, help_text=_("CSAT only: 5 or 3.")
    )
    scale_style = models.CharField(
        _("answer style"), max_length=8, choices=ScaleStyle.choices, default=ScaleStyle.NUMBERS
    )
    is_active = models.BooleanField(_("active"), default=True)
    starts_at = models.DateTimeField(_("active from"), null=True, blank=True)
    ends_at = models.DateTimeField(_("active until"), null=True, blank=True)
    detractor_threshold = models.SmallIntegerField(
        _("detractor at or below"), null=True, blank=True, help_text=_("Empty: NPS 6, CSAT 2, CES 3.")
    )
    recontact_days = models.PositiveSmallIntegerField(_("ask the same person again after (days)"), default=90)
    sampling_percent = models.PositiveSmallIntegerField(
        _("sampling (percent of eligible people asked)"), default=100
    )
    expiry_days = models.PositiveSmallIntegerField(_("invitations expire after (days)"), default=14)
    followup_team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team for detractor follow-ups"),
    )
    # The public id of the embedded widget and of the shareable link; not a secret, not an answer token.
    public_key = models.CharField(_("public key"), max_length=32, unique=True, null=True, blank=True)
    # Widget display rules: {"delay_seconds": 5, "paths": ["/checkout*"], "signed_in_only": false}.
    widget_rules = models.JSONField(_("widget rules"), default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_surveys",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        permissions = [
            ("view_surveys", _("Can view surveys and their answers")),
            ("manage_surveys", _("Can create and change surveys")),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scale(self) -> tuple[int, int]:
        scale = scoring.scale_of(self.kind, self.scale_max)
        return scale.low, scale.high

    @property
    def detractor_at_or_below(self) -> int:
        return scoring.detractor_at_or_below(self.kind, self.scale_max, self.detractor_threshold)


class SurveyResponse(models.Model):
    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", verbose_name=_("survey")
    )
    customer = models.ForeignKey(
        "profiles.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("customer"),
    )
    conversation = models.ForeignKey(
        "tickets.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("conversation"),
    )
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("channel"),
    )
    # One answer per invitation, enforced here rather than in code so that two racing requests with
    # the same token cannot both land. Responses without one come from imports and the demo data.
    invitation = models.OneToOneField(
        "surveys.Invitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("invitation"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    medium = models.CharField(_("answered through"), max_length=16, blank=True)
    locale = models.CharField(_("language"), max_length=8, blank=True)
    score = models.SmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    # Answers to the survey's extra questions, by question id.
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    # False while only the score is in (the one-click and in-channel answers); the follow-up page
    # completes it. Partial answers count: the score is what was asked first.
    is_complete = models.BooleanField(_("complete"), default=False)
    created_at = models.DateTimeField(_("answered at"), db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=10), name="response_score_range")
        ]

    def __str__(self) -> str:
        return f"{self.survey_id}: {self.score}"


from surveys.invitation_models import (  # noqa: E402
    FollowUp,
    FollowUpOutcome,
    Invitation,
    InvitationStatus,
    Medium,
    Trigger,
    TriggerKind,
)

__all__ = [
    "DETRACTOR_AT_OR_BELOW",
    "SCALES",
    "FollowUp",
    "FollowUpOutcome",
    "Invitation",
    "InvitationStatus",
    "Medium",
    "ScaleStyle",
    "Survey",
    "SurveyKind",
    "SurveyResponse",
    "Trigger",
    "TriggerKind",
]

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS")
    CSAT = "csat", _("CSAT")
    CES = "ces", _("CES")


# The answer scale of each kind (inclusive); CSAT may be narrowed per survey later.
SCALES: dict[str, tuple[int, int]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.CSAT: (1, 5),
    SurveyKind.CES: (1, 7),
}


class Survey(models.Model):
    kind = models.CharField(_("type"), max_length=8, choices=SurveyKind.choices)
    name = models.CharField(_("name"), max_length=200)
    # Question texts per language code, e.g. {"en": "...", "pl": "...", "ru": "..."}.
    question = models.JSONField(_("question"), default=dict)
    is_active = models.BooleanField(_("active"), default=True)
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
    score = models.SmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
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

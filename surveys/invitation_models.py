"""Who was asked, through what, why; and what happened to the unhappy answers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_app.kinds import all_kinds


class Medium(models.TextChoices):
    WIDGET = "widget", _("Website widget")
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    TELEGRAM = "telegram", _("Telegram")
    MESSENGER = "messenger", _("Messenger")
    INSTAGRAM = "instagram", _("Instagram")
    LINK = "link", _("Shareable link")
    API = "api", _("API")


def medium_choices() -> list[tuple[str, object]]:
    """Every medium: the survey's own ways to ask, and each channel kind that can carry a survey (its
    KindSpec says so), so a kind registered at run time is a valid medium. A callable for the fields."""
    carried = [(spec.value, spec.label) for spec in all_kinds() if spec.carries_surveys]
    return [
        (Medium.WIDGET.value, Medium.WIDGET.label),
        *carried,
        (Medium.LINK.value, Medium.LINK.label),
        (Medium.API.value, Medium.API.label),
    ]


class InvitationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    THROTTLED = "throttled", _("Not sent (throttled)")
    FAILED = "failed", _("Failed")


class TriggerKind(models.TextChoices):
    RESOLVED = "resolved", _("Conversation resolved")
    EVENT = "event", _("Customer event")
    SCHEDULE = "schedule", _("Schedule for a segment")
    API = "api", _("API")
    MANUAL = "manual", _("Sent by hand")
    WIDGET = "widget", _("Website widget")
    LINK = "link", _("Shareable link")


class Invitation(models.Model):
    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.CASCADE, related_name="invitations", verbose_name=_("survey")
    )
    customer = models.ForeignKey(
        "profiles.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="survey_invitations",
        verbose_name=_("customer"),
        db_index=False,  # invitation_customer_sent leads with it
    )
    # The answer's capability: whoever holds it may answer once, so it is long and random. Unique by a
    # constraint rather than unique=True, which on PostgreSQL also builds a LIKE-pattern index that
    # nothing uses and every answer would have to update.
    token = models.CharField(_("token"), max_length=64)
    medium = models.CharField(_("medium"), max_length=16, choices=medium_choices)
    trigger = models.CharField(_("trigger"), max_length=16, choices=TriggerKind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    # Why it was not sent (fatigue rule, opt-out, no reachable identity…), for the send log.
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("channel"),
    )
    conversation = models.ForeignKey(
        "tickets.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_invitations",
        verbose_name=_("conversation"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    # Where an in-channel answer comes from (phone number, chat id): matched against inbound senders.
    recipient = models.CharField(_("recipient"), max_length=255, blank=True)
    locale = models.CharField(_("language"), max_length=8, blank=True)
    rule = models.ForeignKey(
        "surveys.Trigger",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        verbose_name=_("trigger rule"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [models.UniqueConstraint(fields=["token"], name="invitation_token_unique")]
        # No index may mention `status`: an answer then changes no indexed column, and PostgreSQL
        # updates the invitation in place (HOT) instead of adding a new entry to every index of the
        # table; with the fill factor leaving room on each page (migration 0004), answering a survey
        # blast writes a fraction of the WAL it did.
        indexes = [
            # Fatigue checks: this person's most recent invitations.
            models.Index(fields=["customer", "-sent_at"], name="invitation_customer_sent"),
            # In-channel answers: the open invitation of this sender on this channel (a person has few).
            models.Index(fields=["channel", "recipient", "-sent_at"], name="invitation_by_sender"),
            # Invitations waiting for their time (quiet hours, a delay) until they are sent.
            models.Index(
                fields=["send_at"],
                name="invitation_waiting",
                condition=Q(send_at__isnull=False, sent_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} → {self.customer_id or '?'} ({self.medium})"


class Trigger(models.Model):
    """When a survey goes out by itself: after a resolution, on an event, or on a schedule."""

    survey = models.ForeignKey(
        "surveys.Survey", on_delete=models.CASCADE, related_name="triggers", verbose_name=_("survey")
    )
    kind = models.CharField(_("when"), max_length=16, choices=TriggerKind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    # Resolved: minutes after resolution. Event: minutes after the event.
    delay_minutes = models.PositiveIntegerField(_("delay (minutes)"), default=60)
    event_name = models.CharField(_("event name"), max_length=100, blank=True)
    # Resolved: only conversations on these channels (empty = all).
    channels = models.ManyToManyField(
        "channels_app.Channel", blank=True, related_name="+", verbose_name=_("channels")
    )
    segment = models.ForeignKey(
        "profiles.Segment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("segment"),
    )
    every_days = models.PositiveSmallIntegerField(_("repeat every (days)"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    # Which medium to prefer; empty = the channel of the conversation or the customer's latest.
    medium = models.CharField(_("send through"), max_length=16, choices=medium_choices, blank=True)

    class Meta:
        verbose_name = _("survey trigger")
        verbose_name_plural = _("survey triggers")

    def __str__(self) -> str:
        return f"{self.survey_id}: {self.kind}"


class FollowUpOutcome(models.TextChoices):
    RESOLVED = "resolved", _("Contacted, problem solved")
    UNRESOLVED = "unresolved", _("Contacted, not solved")
    UNREACHABLE = "unreachable", _("Could not reach the customer")
    NO_ACTION = "no_action", _("No action needed")


class FollowUp(models.Model):
    """The closed loop: a detractor's answer becomes a conversation somebody has to resolve."""

    response = models.OneToOneField(
        "surveys.SurveyResponse", on_delete=models.CASCADE, related_name="follow_up", verbose_name=_("answer")
    )
    conversation = models.ForeignKey(
        "tickets.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        related_name="survey_follow_ups",
        verbose_name=_("conversation"),
    )
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("loop closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=FollowUpOutcome.choices, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("detractor follow-up")
        verbose_name_plural = _("detractor follow-ups")
        indexes = [models.Index(fields=["closed_at"], name="followup_open")]

    def __str__(self) -> str:
        return f"follow-up {self.response_id}"

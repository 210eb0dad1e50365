"""What agents add to conversations: labels, internal notes, and what each agent has read."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Label(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)
    color = models.CharField(_("color"), max_length=16, default="slate")

    class Meta:
        ordering = ["name"]
        verbose_name = _("label")
        verbose_name_plural = _("labels")

    def __str__(self) -> str:
        return self.name


class InternalNote(models.Model):
    """A note agents leave on a conversation; never sent to the customer."""

    conversation = models.ForeignKey("tickets.Conversation", on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("note"))
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        indexes = [models.Index(fields=["conversation", "created_at"], name="note_conversation_time")]

    def __str__(self) -> str:
        return self.body[:40]


class ConversationRead(models.Model):
    """Up to when an agent has read a conversation: the unread marker in the inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("tickets.Conversation", on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField(_("read at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "conversation"], name="read_unique_user_conv")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.conversation_id} at {self.read_at:%Y-%m-%d %H:%M}"


class AssignmentRule(models.Model):
    """How new conversations of a channel (or a team's channels) find an agent automatically."""

    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"
    STRATEGIES = [(ROUND_ROBIN, _("Round robin")), (LEAST_LOADED, _("Least loaded"))]

    channel = models.OneToOneField(
        "channels_app.Channel",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignment_rule",
    )
    team = models.OneToOneField(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="assignment_rule"
    )
    strategy = models.CharField(_("strategy"), max_length=16, choices=STRATEGIES, default=ROUND_ROBIN)
    is_active = models.BooleanField(_("active"), default=True)
    # Round robin remembers who got the last one.
    last_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")

    def __str__(self) -> str:
        return f"{self.channel or self.team}: {self.strategy}"


class CannedResponse(models.Model):
    """A saved reply; `{{ customer.first_name }}`-style placeholders are filled from the profile."""

    title = models.CharField(_("title"), max_length=120)
    shortcut = models.SlugField(_("shortcut"), max_length=40, unique=True)
    body = models.TextField(_("text"))
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="canned_responses"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title

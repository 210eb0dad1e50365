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

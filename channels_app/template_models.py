"""Approved WhatsApp message templates: what an agent may send once the 24-hour window has closed."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


class MessageTemplate(models.Model):
    channel = models.ForeignKey(
        "channels_app.Channel",
        on_delete=models.CASCADE,
        related_name="message_templates",
        limit_choices_to={"kind": "whatsapp"},
        verbose_name=_("channel"),
    )
    # As approved by Meta (Cloud API sends it by name and language).
    name = models.CharField(_("name"), max_length=512)
    language = models.CharField(_("language"), max_length=15, default="en")
    # The approved wording with {{1}}, {{2}} … placeholders, for the agent's preview and the thread.
    body = models.TextField(_("body"))
    variables = models.PositiveSmallIntegerField(_("number of variables"), default=0)
    # Twilio sends templates by Content SID (HX…), not by name.
    content_sid = models.CharField(_("Twilio content SID"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "language"]
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [
            models.UniqueConstraint(fields=["channel", "name", "language"], name="template_unique_name_lang")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    def clean(self) -> None:
        found = {int(n) for n in PLACEHOLDER.findall(self.body)}
        if found != set(range(1, self.variables + 1)):
            raise ValidationError(
                {
                    "variables": _("The body must use exactly the placeholders {{1}} to {{%(n)s}}.")
                    % {"n": self.variables}
                }
            )

    def filled(self, values: list[str]) -> str:
        return PLACEHOLDER.sub(
            lambda m: values[int(m.group(1)) - 1] if int(m.group(1)) <= len(values) else m.group(0), self.body
        )

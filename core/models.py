from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ServiceHeartbeat(models.Model):
    """Last time a periodic job ran through a worker; read by /healthz."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    seen_at = models.DateTimeField(_("seen at"))
    hostname = models.CharField(_("host name"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("service heartbeat")
        verbose_name_plural = _("service heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class ConfigAction(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Changed")
    DELETED = "deleted", _("Deleted")


class ConfigObjectType(models.TextChoices):
    CHANNEL = "channel", _("Channel")
    USER = "user", _("User")
    TEAM = "team", _("Team")
    SURVEY = "survey", _("Survey")
    TRIGGER = "trigger", _("Survey trigger")
    SLA_POLICY = "sla_policy", _("SLA policy")
    API_KEY = "api_key", _("API key")
    RETENTION_POLICY = "retention_policy", _("Retention policy")


class ConfigChange(models.Model):
    """One creation, change or deletion of a piece of workspace configuration (see cxm/config_audit.py).

    The object is kept as type, id and name rather than a foreign key, so the entry outlives a deleted
    object; the actor's user name is copied for the same reason. `changes` maps a field to
    {"from": …, "to": …}, or to {"secret": true} for values that are never stored."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("by"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=ConfigAction.choices)
    object_type = models.CharField(_("object type"), max_length=32, choices=ConfigObjectType.choices)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("configuration change")
        verbose_name_plural = _("configuration changes")
        indexes = [
            models.Index(fields=["-at", "-id"], name="configchange_newest"),
            models.Index(fields=["object_type", "-at"], name="configchange_type_newest"),
            models.Index(fields=["actor", "-at"], name="configchange_actor_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} #{self.object_id}"

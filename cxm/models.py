from django.db import models
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

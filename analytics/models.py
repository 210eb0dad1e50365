from django.db import models
from django.utils.translation import gettext_lazy as _


class AnalyticsPermissions(models.Model):
    """Holds the analytics permissions; dashboards read other apps' tables and store nothing yet."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_dashboards", _("Can view CX dashboards")),
            ("export_data", _("Can export data")),
        ]

    def __str__(self) -> str:
        return "analytics permissions"

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The shared core: realtime, Redis, secrets, batch writing, domain events, the configuration log.

    The label stays "cxm" so the tables, migrations and permissions written before the core had a package
    of its own keep their names.
    """

    name = "core"
    label = "cxm"
    verbose_name = _("Core")

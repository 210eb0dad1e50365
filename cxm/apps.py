from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectConfig(AppConfig):
    """The project wiring (settings, URLs, ASGI, demo data, `serve`): the one package above every app."""

    name = "cxm"
    label = "project"
    verbose_name = _("Project")

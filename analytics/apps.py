from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        from analytics import handlers

        handlers.register()
        from analytics import answer_dirty

        answer_dirty.register()
        from analytics import views_live

        views_live.register()
        from analytics import (
            digest_tasks,  # noqa: F401  (autodiscovery imports tasks.py only)
            profile_personal_data,
        )

        profile_personal_data.register()

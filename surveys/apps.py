from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "surveys"
    verbose_name = _("Surveys")

    def ready(self) -> None:
        from surveys import answer_events, ticket_handlers

        ticket_handlers.register()
        answer_events.register()
        from surveys import (
            profile_handlers,
            profile_merge,
            profile_personal_data,
            profile_sections,
            profile_segments,
        )

        profile_handlers.register()
        profile_merge.register()
        profile_personal_data.register()
        profile_sections.register()
        profile_segments.register()

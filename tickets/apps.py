from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        # Imported here: handler modules use models, which exist only once the registry is ready.
        from tickets import live_handlers, pipeline_handlers
        from tickets.webchat import rendering

        pipeline_handlers.register()
        live_handlers.register()
        rendering.register()
        from tickets import profile_merge, profile_personal_data, profile_sections, profile_segments

        profile_merge.register()
        profile_personal_data.register()
        profile_sections.register()
        profile_segments.register()

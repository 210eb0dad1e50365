from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from channels_app.ingest import do_replay_events
from channels_app.models import Channel, InboundEvent, MessageTemplate
from core.config_audit_admin import ConfigAuditAdminMixin


@admin.register(Channel)
class ChannelAdmin(ConfigAuditAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "address", "is_active")
    list_filter = ("kind", "is_active")
    # Credentials are edited in Settings, which never sends a stored secret back to the browser.
    exclude = ("credentials",)
    readonly_fields = ("masked",)

    @admin.display(description=_("credentials"))
    def masked(self, obj: Channel) -> str:
        return ", ".join(f"{k}: {v}" for k, v in obj.masked_credentials().items()) or "-"


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ("id", "provider", "channel", "status", "attempts", "received_at", "short_error")
    list_filter = ("status", "provider", "channel")
    list_select_related = ("channel",)
    search_fields = ("dedup_key", "error")
    readonly_fields = [f.name for f in InboundEvent._meta.fields if f.name != "body"] + ["body_preview"]
    exclude = ("body",)
    actions = ["replay"]

    @admin.display(description=_("error"))
    def short_error(self, obj: InboundEvent) -> str:
        return obj.error[:120]

    @admin.display(description=_("raw body"))
    def body_preview(self, obj: InboundEvent) -> str:
        # Shown as text only (the admin escapes it); never rendered as HTML.
        raw = bytes(obj.body)
        text = raw[:20_000].decode("utf-8", errors="replace")
        return text + (f"\n… ({len(raw)} bytes in all)" if len(raw) > 20_000 else "")

    @admin.action(description=_("Replay selected failed or ignored events"))
    def replay(self, request, queryset):
        count = do_replay_events(event_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(request, _("%(count)d event(s) queued for replay.") % {"count": count})

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "channel", "variables", "is_active")
    list_filter = ("channel", "is_active", "language")
    search_fields = ("name", "body")

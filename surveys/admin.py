from django.contrib import admin

from core.config_audit_admin import ConfigAuditAdminMixin
from surveys.invitation_models import FollowUp, Invitation, Trigger
from surveys.models import Survey, SurveyResponse


@admin.register(Survey)
class SurveyAdmin(ConfigAuditAdminMixin, admin.ModelAdmin):
    list_display = ("name", "kind", "is_active", "owner")
    list_filter = ("kind", "is_active")
    list_select_related = ("owner",)
    search_fields = ("name",)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("survey", "score", "channel", "created_at")
    list_select_related = ("survey", "channel")
    raw_id_fields = ("customer", "conversation", "invitation", "agent")


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("survey", "customer", "medium", "trigger", "status", "reason", "created_at")
    list_filter = ("status", "medium", "trigger")
    list_select_related = ("survey", "customer")
    # The token is the answer's capability: admins see who was asked, not how to answer for them.
    exclude = ("token",)
    raw_id_fields = ("customer", "conversation", "agent", "channel", "rule")


@admin.register(Trigger)
class TriggerAdmin(ConfigAuditAdminMixin, admin.ModelAdmin):
    list_display = ("survey", "kind", "is_active", "delay_minutes", "event_name", "every_days", "last_run_at")
    list_filter = ("kind", "is_active")
    list_select_related = ("survey",)


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("response", "conversation", "opened_at", "closed_at", "outcome")
    list_filter = ("outcome",)
    raw_id_fields = ("response", "conversation", "closed_by")

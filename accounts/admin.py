from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Team, User
from core.config_audit_admin import ConfigAuditAdminMixin


@admin.register(User)
class CxmUserAdmin(ConfigAuditAdminMixin, UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("role", "is_active", "teams")
    fieldsets = (*(UserAdmin.fieldsets or ()), (_("Workspace"), {"fields": ("role", "language")}))


@admin.register(Team)
class TeamAdmin(ConfigAuditAdminMixin, admin.ModelAdmin):
    list_display = ("name", "description")
    filter_horizontal = ("members",)


@admin.register(ApiKey)
class ApiKeyAdmin(ConfigAuditAdminMixin, admin.ModelAdmin):
    """Keys are created with `manage.py create_api_key` (the secret is shown once); here they are
    listed and revoked. Only the prefix is ever displayed."""

    list_display = ("name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    fields = ("name", "prefix", "created_by", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset) -> None:
        from accounts.api_keys import do_revoke_api_key

        for key in queryset:
            do_revoke_api_key(key=key)

"""Changes made in the Django admin go into the configuration log too, through the same service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.admin.utils import unquote
from django.db import transaction

from core.config_audit import do_record_change, snapshot, track

if TYPE_CHECKING:
    from django.contrib.auth.admin import UserAdmin

    # For the checker only: the mixin's super() calls reach the ModelAdmin it is mixed into, and
    # user_change_password the UserAdmin's. UserAdmin is a ModelAdmin, so one base covers both.
    _AdminBase = UserAdmin[Any]
else:
    _AdminBase = object


class ConfigAuditAdminMixin(_AdminBase):
    """Put first in the bases of the ModelAdmin of an audited model (see core.config_audit.AUDITED)."""

    def save_model(self, request, obj, form, change):
        # Read from the database, not from `obj`: the form has already written its values into it.
        form._config_audit_before = snapshot(obj)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        # Many-to-many fields (teams, members) are written here, so the entry is taken after them.
        super().save_related(request, form, formsets, change)
        before = getattr(form, "_config_audit_before", None)
        do_record_change(instance=form.instance, before=before, actor=request.user)

    def delete_model(self, request, obj):
        before = snapshot(obj)
        super().delete_model(request, obj)
        do_record_change(instance=obj, before=before, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            changes = track(*queryset)
            super().delete_queryset(request, queryset)
            changes.record(actor=request.user)

    def user_change_password(self, request, id, form_url=""):
        # Only reached on the user admin: its own password form saves without save_model.
        with transaction.atomic():
            user = self.get_object(request, unquote(id))
            before = snapshot(user) if user is not None else None
            response = super().user_change_password(request, id, form_url)
            if user is not None:
                do_record_change(instance=user, before=before, actor=request.user)
        return response

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.config_audit_admin import ConfigAuditAdminMixin
from tickets.business_time import parse_intervals
from tickets.models import Conversation, Message, Priority
from tickets.sla_models import BusinessHours, Holiday, SlaPolicy


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "subject", "status", "priority", "channel", "assignee", "last_activity_at")
    list_filter = ("status", "priority", "channel")
    list_select_related = ("channel", "assignee")
    raw_id_fields = ("customer",)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "conversation", "direction", "channel", "created_at")
    list_select_related = ("channel", "conversation")
    raw_id_fields = ("conversation", "author")


class BusinessHoursForm(forms.ModelForm):
    class Meta:
        model = BusinessHours
        fields = ("name", "timezone", "intervals")
        help_texts = {
            "intervals": _(
                "Per ISO weekday (1 = Monday … 7 = Sunday), a list of opening intervals, e.g. "
                '{"1": [["09:00", "13:00"], ["14:00", "18:00"]]}. Leave a day out when the team is off.'
            )
        }

    def clean_timezone(self) -> str:
        name = self.cleaned_data["timezone"].strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise forms.ValidationError(
                _("“%(name)s” is not a known time zone, e.g. Europe/Warsaw."), params={"name": name}
            ) from None
        return name

    def clean_intervals(self):
        intervals = self.cleaned_data["intervals"]
        # Deadlines are computed from these on every inbound message: a typo must not reach them.
        try:
            days = parse_intervals(intervals)
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(
                _("Working hours are not valid: %(error)s"), params={"error": exc}
            ) from None
        if not days:
            raise forms.ValidationError(_("Give at least one working interval in the week."))
        return intervals


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1
    fields = ("date", "name")


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    form = BusinessHoursForm
    list_display = ("name", "timezone")
    search_fields = ("name",)
    inlines = [HolidayInline]


class SlaPolicyForm(forms.ModelForm):
    # The model keeps priority free-form so a blank means "any"; the form offers only real ones.
    priority = forms.ChoiceField(
        label=_("priority"), choices=[("", _("Any priority")), *Priority.choices], required=False
    )

    class Meta:
        model = SlaPolicy
        fields = (
            "name",
            "is_active",
            "channel",
            "priority",
            "business_hours",
            "first_response_minutes",
            "next_response_minutes",
            "resolution_minutes",
        )


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ConfigAuditAdminMixin, admin.ModelAdmin):
    form = SlaPolicyForm
    list_display = (
        "name",
        "channel",
        "priority",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "business_hours",
        "is_active",
    )
    list_filter = ("is_active", "priority", "channel", "business_hours")
    list_select_related = ("channel", "business_hours")
    search_fields = ("name",)


# Automatic assignment and canned responses.
from tickets.models import AssignmentRule, CannedResponse  # noqa: E402


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "channel", "team", "strategy", "is_active", "last_assignee")
    list_filter = ("is_active", "strategy")
    list_select_related = ("channel", "team", "last_assignee")
    raw_id_fields = ("last_assignee",)


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("title", "shortcut", "team", "created_at")
    list_filter = ("team",)
    list_select_related = ("team",)
    search_fields = ("title", "shortcut", "body")
    prepopulated_fields = {"shortcut": ("title",)}

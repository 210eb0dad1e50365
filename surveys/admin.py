from django.contrib import admin

from surveys.models import Survey, SurveyResponse


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "is_active")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("survey", "score", "channel", "created_at")
    list_select_related = ("survey", "channel")
    raw_id_fields = ("customer", "conversation")

from django.contrib import admin

from tickets.models import Conversation, Message


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

"""Routes of one conversation (view, reply, notes, assignment …), under /inbox/."""

from django.urls import path

from tickets import views_attachments, views_labels, views_retry
from tickets import views_conversation as views

urlpatterns = [
    path("<int:pk>/", views.conversation_detail, name="conversation_detail"),
    path("<int:pk>/reply/", views.reply, name="conversation_reply"),
    path("<int:pk>/reply/options/", views.reply_options, name="conversation_reply_options"),
    path("<int:pk>/notes/", views.add_note, name="conversation_note"),
    path("<int:pk>/status/", views.set_status, name="conversation_status"),
    path("<int:pk>/priority/", views.set_priority, name="conversation_priority"),
    path("<int:pk>/assign/", views.assign, name="conversation_assign"),
    path("<int:pk>/labels/add/", views.add_label, name="conversation_label_add"),
    path("<int:pk>/labels/remove/", views.remove_label, name="conversation_label_remove"),
    path("<int:pk>/labels/create/", views_labels.create_label, name="conversation_label_create"),
    path("<int:pk>/snooze/", views.snooze, name="conversation_snooze"),
    path("<int:pk>/messages/<int:message_id>/mail/", views.mail_frame, name="conversation_mail_frame"),
    path("<int:pk>/messages/<int:message_id>/retry/", views_retry.retry_reply, name="conversation_retry"),
    path(
        "<int:pk>/attachments/<int:attachment_id>/",
        views_attachments.conversation_attachment,
        name="conversation_attachment",
    ),
    path("sms-count/", views.sms_count, name="conversation_sms_count"),
]

from django.urls import path

from tickets import views_attachments

urlpatterns = [
    path("<str:token>/<str:filename>", views_attachments.attachment_link, name="attachment_link"),
]

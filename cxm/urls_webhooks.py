from django.urls import path

from channels_app import webhooks
from cxm import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("webhooks/<slug:provider>/<int:channel_id>/", webhooks.receive, name="webhook"),
]

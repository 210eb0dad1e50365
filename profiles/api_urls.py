"""REST API for the company's own systems: events and identify (API-key authenticated)."""

from django.urls import path

from profiles import api

urlpatterns = [
    path("events/", api.EventBatchView.as_view(), name="api_events"),
    path("customers/identify/", api.IdentifyView.as_view(), name="api_identify"),
    # Without these, a POST missing the slash is redirected (and turned into a GET by most clients).
    path("events", api.EventBatchView.as_view()),
    path("customers/identify", api.IdentifyView.as_view()),
]

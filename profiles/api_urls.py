"""REST API for the company's own systems: events and identify (API-key authenticated)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

"""Routes for segments, CSV import/export and privacy tools (export, erasure, audit)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []

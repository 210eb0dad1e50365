"""Routes for segments, CSV import/export and privacy tools (export, erasure, audit); one module each."""

from django.urls import include, path

urlpatterns = [
    path("", include("profiles.urls_privacy")),
    path("", include("profiles.urls_segments")),
    path("", include("profiles.urls_imports")),
]

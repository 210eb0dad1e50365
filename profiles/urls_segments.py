"""Routes for segments (see profiles/urls_tools.py)."""

from django.urls import path

from profiles import views_segments

urlpatterns = [
    path("segments/", views_segments.segment_list, name="segment_list"),
    path("segments/new/", views_segments.segment_form, name="segment_create"),
    path("segments/<int:pk>/", views_segments.segment_form, name="segment_edit"),
    path("segments/<int:pk>/count/", views_segments.segment_count_view, name="segment_count"),
    path("segments/<int:pk>/delete/", views_segments.segment_delete, name="segment_delete"),
]

from django.urls import include, path

from profiles import views, views_profile

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    path("<int:pk>/", views_profile.customer_profile, name="customer_profile"),
    path("<int:pk>/timeline/", views_profile.customer_timeline, name="customer_timeline"),
    path("<int:pk>/notes/", views_profile.customer_notes, name="customer_notes"),
    path(
        "<int:pk>/suggestions/<int:suggestion_id>/accept/",
        views_profile.suggestion_accept,
        name="customer_suggestion_accept",
    ),
    path(
        "<int:pk>/suggestions/<int:suggestion_id>/dismiss/",
        views_profile.suggestion_dismiss,
        name="customer_suggestion_dismiss",
    ),
    path("<int:pk>/merges/<int:log_id>/undo/", views_profile.merge_undo, name="customer_merge_undo"),
    # Segments, imports, exports and privacy tools live in their own module.
    path("", include("profiles.urls_tools")),
]

"""Routes for automatic assignment and canned responses, under /inbox/."""

from django.urls import path

from tickets import views_availability, views_canned

urlpatterns = [
    path("availability/", views_availability.set_availability, name="set_availability"),
    path("<int:pk>/canned/", views_canned.canned_list, name="conversation_canned"),
]

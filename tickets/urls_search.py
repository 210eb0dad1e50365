"""Search route, included from tickets/urls.py under /inbox/."""

from django.urls import path

from tickets import views_search

urlpatterns = [path("search/", views_search.search, name="inbox_search")]

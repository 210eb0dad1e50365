from django.urls import include, path

from tickets import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("", include("tickets.urls_conversation")),
]

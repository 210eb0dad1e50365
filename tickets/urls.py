from django.urls import include, path

from tickets import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("rows/<int:pk>/", views.inbox_row, name="inbox_row"),
    path("", include("tickets.urls_conversation")),
    path("", include("tickets.urls_search")),
    path("", include("tickets.urls_assignment")),
]

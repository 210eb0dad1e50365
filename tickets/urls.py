from django.urls import include, path

from tickets import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("rows/<int:pk>/", views.inbox_row, name="inbox_row"),
    path("views/", views.saved_view_create, name="saved_view_create"),
    path("views/<int:pk>/", views.saved_view_update, name="saved_view_update"),
    path("views/<int:pk>/move/", views.saved_view_move, name="saved_view_move"),
    path("views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("", include("tickets.urls_conversation")),
    path("", include("tickets.urls_search")),
    path("", include("tickets.urls_assignment")),
]

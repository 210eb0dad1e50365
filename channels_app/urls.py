from django.urls import path

from channels_app import views

urlpatterns = [
    path("", views.channel_list, name="channel_list"),
    path("new/", views.channel_create, name="channel_create"),
    path("<int:channel_id>/", views.channel_edit, name="channel_edit"),
    path("<int:channel_id>/check/", views.channel_check, name="channel_check"),
]

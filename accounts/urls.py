from django.urls import path

from accounts import views

urlpatterns = [path("", views.settings_home, name="settings")]

from django.urls import path

from surveys import views

urlpatterns = [path("", views.survey_list, name="survey_list")]

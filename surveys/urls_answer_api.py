from django.urls import path

from surveys import views_answer_api

urlpatterns = [path("answers/", views_answer_api.answer, name="survey_answer_api")]

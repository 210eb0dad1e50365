from django.urls import path

from surveys import views, views_follow_up

urlpatterns = [
    path("", views.survey_list, name="survey_list"),
    path("new/", views.survey_create, name="survey_create"),
    path("<int:pk>/", views.survey_detail, name="survey_detail"),
    path("<int:pk>/edit/", views.survey_edit, name="survey_edit"),
    path("<int:pk>/share/", views.survey_share, name="survey_share"),
    path("follow-ups/<int:pk>/close/", views_follow_up.close_loop, name="follow_up_close"),
]

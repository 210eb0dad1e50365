"""The survey REST API (API-key authenticated), mounted at /api/v1/surveys/."""

from django.urls import path

from surveys import api

urlpatterns = [
    path("<int:pk>/invitations/", api.SurveyInvitationsView.as_view(), name="api_survey_invitations"),
    path("<int:pk>/responses/", api.SurveyResponsesView.as_view(), name="api_survey_responses"),
    # Without these, a POST missing the slash is redirected (and turned into a GET by most clients).
    path("<int:pk>/invitations", api.SurveyInvitationsView.as_view()),
    path("<int:pk>/responses", api.SurveyResponsesView.as_view()),
]

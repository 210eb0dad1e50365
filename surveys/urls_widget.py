"""Mounted at s/w/: the embeddable survey widget (script, public JSON endpoints) and its settings page."""

from django.urls import path

from surveys import views_widget

urlpatterns = [
    path("widget.js", views_widget.script, name="survey_widget_script"),
    path("answer", views_widget.answer, name="survey_widget_answer"),
    path("settings/<int:survey_id>/", views_widget.widget_settings, name="survey_widget_settings"),
    path("<str:public_key>/show", views_widget.show, name="survey_widget_show"),
]

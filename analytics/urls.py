from django.urls import path

from analytics import (
    digest_views,
    exports_views,
    views,
    views_answers,
    views_drill,
    views_journey,
    views_people,
    views_targets,
)

urlpatterns = [
    path("", views.overview, name="dashboards"),
    path("operations/", views.operations, name="dashboards_operations"),
    path("surveys/", views_answers.surveys, name="dashboards_surveys"),
    path("closed-loop/", views_answers.closed_loop, name="dashboards_loop"),
    path("people/", views_people.people, name="dashboards_people"),
    path("me/", views_people.my_performance, name="dashboards_me"),
    path("journey/", views_journey.journey, name="dashboards_journey"),
    path("drill/", views_drill.conversations, name="dashboards_drill"),
    path("drill/answers/", views_drill.answers, name="dashboards_drill_answers"),
    path("drill/follow-ups/", views_drill.follow_ups, name="dashboards_drill_follow_ups"),
    path("drill/invitations/", views_drill.invitations, name="dashboards_drill_invitations"),
    path("targets/", views_targets.targets, name="dashboards_targets"),
    path("export/conversations/", exports_views.export_conversations, name="export_conversations"),
    path("export/answers/", exports_views.export_answers, name="export_answers"),
    path("digest/", digest_views.digest_settings, name="digest_settings"),
]

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from channels_app import webhooks
from cxm import config_audit_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", account_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("inbox/", include("tickets.urls")),
    path("customers/", include("profiles.urls")),
    path("surveys/", include("surveys.urls")),
    # Public survey pages, the embeddable widget and the survey API (each app file owns its routes).
    path("s/api/", include("surveys.urls_answer_api")),
    path("s/", include("surveys.urls_public")),
    path("s/w/", include("surveys.urls_widget")),
    path("api/v1/surveys/", include("surveys.api_urls")),
    path("dashboards/", include("analytics.urls")),
    path("settings/configuration-log/", config_audit_views.config_audit, name="config_audit"),
    path("settings/", include("accounts.urls")),
    path("settings/channels/", include("channels_app.urls")),
    path("files/", include("tickets.urls_files")),
    path("webhooks/<slug:provider>/<int:channel_id>/", webhooks.receive, name="webhook"),
    path("api/v1/", include("profiles.api_urls")),
    path("admin/", admin.site.urls),
]

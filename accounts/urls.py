from django.urls import path

from accounts import mfa_views, views

urlpatterns = [
    path("", views.settings_home, name="settings"),
    path("security/", mfa_views.security_settings, name="security_settings"),
    path("security/setup/", mfa_views.start_setup, name="security_setup"),
    path("security/confirm/", mfa_views.confirm_setup, name="security_confirm"),
    path("security/recovery-codes/", mfa_views.regenerate_codes, name="security_recovery_codes"),
    path("security/remove/", mfa_views.remove, name="security_remove"),
    path("security/policy/", mfa_views.set_policy, name="security_policy"),
]

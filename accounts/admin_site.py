"""The Django admin, signed into through the app's own login: the same throttling per account and
address, the same second factor and the same role policy as every other page."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.urls import reverse


class CxmAdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        from accounts.views import LoginView

        if request.user.is_authenticated:
            if self.has_permission(request):
                return super().login(request, extra_context)  # Django sends staff on to the index
            # Signed in without admin rights: the login form would only send them back here.
            raise PermissionDenied
        index = reverse("admin:index", current_app=self.name)
        return LoginView.as_view(next_page=index)(request)


class CxmAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.CxmAdminSite"

"""The weekly digest's setting: a card on the user's own account page (accounts/security.html loads
it with htmx, since accounts sits below analytics), saved here."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import roles
from accounts.decorators import requires
from analytics.digest_services import DigestSettingsError, digest_for, do_set_digest

_ZONES = sorted(available_timezones())


@require_http_methods(["GET", "POST"])
@requires(roles.VIEW_DASHBOARDS)
def digest_settings(request) -> HttpResponse:
    subscription, saved, error = digest_for(request.user), False, ""
    if request.method == "POST":
        try:
            subscription = do_set_digest(
                user=request.user,
                enabled=request.POST.get("enabled") == "1",
                time_zone=request.POST.get("time_zone", ""),
            )
            saved = True
        except DigestSettingsError:
            error = _("Choose a time zone from the list.")
        if not request.htmx and not error:
            return redirect("security_settings")
    context = {"subscription": subscription, "zones": _ZONES, "saved": saved, "error": error}
    return render(request, "analytics/email_digest_settings.html", context, status=400 if error else 200)
